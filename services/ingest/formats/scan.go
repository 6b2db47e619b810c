package formats

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
)

// maxDepth is encoding/json's nesting limit: a document nested deeper is
// not one it reads.
const maxDepth = 10000

// topObject reads body, in one pass, as encoding/json reads it into a
// map[string]json.RawMessage: the members of the one object it holds, keys
// decoded, each value the exact bytes of that value, the last of a repeated
// key kept. ok is false for exactly what encoding/json would not read so
// (not JSON, not an object, trailing data); the caller then asks
// encoding/json where and why.
//
// encoding/json reads an article about three times over (it checks the
// whole document, then scans each value again as it copies it out); this
// is the one pass that ingest's common case needs. FuzzTopObject holds it
// to encoding/json's answer.
func topObject(body []byte) (map[string]json.RawMessage, bool) {
	s := scanner{b: body}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return nil, false
	}
	obj := map[string]json.RawMessage{}
	if !s.composite('}', true, func(key, value []byte) { obj[jsonString(key)] = value }) {
		return nil, false
	}
	s.space()
	return obj, s.i == len(s.b)
}

// elements splits a JSON array, already known to be well-formed, into its
// values.
func elements(raw []byte) []json.RawMessage {
	s := scanner{b: raw}
	var out []json.RawMessage
	s.composite(']', false, func(_, value []byte) { out = append(out, value) })
	return out
}

// scanner walks JSON text; each method advances i past what it read and
// says whether that was well-formed.
type scanner struct {
	b     []byte
	i     int
	depth int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value reads one JSON value starting at i (no leading space).
func (s *scanner) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str()
	case c == '{':
		return s.composite('}', true, nil)
	case c == '[':
		return s.composite(']', false, nil)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return false
}

// composite reads an object (members) or an array from its opening byte,
// handing each member's key literal (nil in an array) and value to each,
// if set.
func (s *scanner) composite(end byte, members bool, each func(key, value []byte)) bool {
	s.depth++
	if s.depth > maxDepth {
		return false
	}
	s.i++
	s.space()
	if s.i < len(s.b) && s.b[s.i] == end {
		s.i++
		s.depth--
		return true
	}
	for {
		var key []byte
		if members {
			start := s.i
			if !s.str() {
				return false
			}
			key = s.b[start:s.i]
			s.space()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return false
			}
			s.i++
			s.space()
		}
		start := s.i
		if !s.value() {
			return false
		}
		if each != nil {
			each(key, s.b[start:s.i:s.i])
		}
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case end:
			s.i++
			s.depth--
			return true
		case ',':
			s.i++
			s.space()
		default:
			return false
		}
	}
}

// str reads a string literal from its opening quote: no raw control
// characters, only JSON's escapes. Bytes of 0x80 and above pass as
// encoding/json lets them (jsonString later replaces invalid UTF-8).
func (s *scanner) str() bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	s.i++
	for s.i < len(s.b) {
		// Eight plain bytes at a time (no quote, backslash or control),
		// stopping at the first byte that is not.
		for s.i+8 <= len(s.b) {
			w := binary.LittleEndian.Uint64(s.b[s.i:])
			if m := lessMask(w, 0x20) | byteMask(w, '"') | byteMask(w, '\\'); m != 0 {
				s.i += bits.TrailingZeros64(m) >> 3
				break
			}
			s.i += 8
		}
		if s.i >= len(s.b) {
			break
		}
		c := s.b[s.i]
		if c >= 0x20 && c != '"' && c != '\\' {
			s.i++
			continue
		}
		switch {
		case c == '"':
			s.i++
			return true
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return false
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				s.i += 6
			default:
				return false
			}
		case c < 0x20:
			return false
		default:
			s.i++
		}
	}
	return false
}

func (s *scanner) literal(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.digits() == 0:
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// Bytes of a 64-bit word, in parallel ("SWAR"; Hacker's Delight, and Sean
// Anderson's bit hacks): each test is exact about whether some byte
// matches, not about which.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// hasLess reports whether a byte of w is below n (n at most 128).
func hasLess(w, n uint64) bool { return lessMask(w, n) != 0 }

// hasByte reports whether a byte of w is b.
func hasByte(w uint64, b byte) bool { return byteMask(w, b) != 0 }

// lessMask and byteMask flag, in its high bit, each byte of w that is less
// than n (n at most 128) or is b. Only the lowest flag is exact (a borrow
// may flag a byte above it), which is the one a scan needs: the first
// byte to stop at is at bits.TrailingZeros64(mask)/8.
func lessMask(w, n uint64) uint64 { return (w - lowBits*n) &^ w & highBits }

func byteMask(w uint64, b byte) uint64 {
	x := w ^ (lowBits * uint64(b))
	return (x - lowBits) &^ x & highBits
}

// hasHigh reports whether a byte of w is 0x7f or above.
func hasHigh(w uint64) bool { return (w|(w+lowBits))&highBits != 0 }
