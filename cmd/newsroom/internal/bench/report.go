package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Row is one figure of the table: a measurement, the baseline it is
// compared with (measured in the same run) and their ratio, figure ÷
// baseline. A baseline row is its own baseline (ratio 1).
type Row struct {
	ID    string
	Name  string
	Value float64
	Unit  string
	// Base names the baseline row; BaseValue is its figure.
	Base      string
	BaseValue float64
	// Target, when set, is what the ratio should be: "≥", "≤" and a bound.
	Target *Target
	Note   string
}

// Target is a bound on a row's ratio.
type Target struct {
	AtLeast bool
	Bound   float64
}

func (t Target) String() string {
	if t.AtLeast {
		return fmt.Sprintf("≥ %.2f×", t.Bound)
	}
	return fmt.Sprintf("≤ %.2f×", t.Bound)
}

// Ratio is Value ÷ BaseValue (NaN when either is missing).
func (r Row) Ratio() float64 {
	if r.BaseValue == 0 || math.IsNaN(r.Value) || math.IsNaN(r.BaseValue) {
		return math.NaN()
	}
	return r.Value / r.BaseValue
}

// Met reports whether the ratio meets the target; ok is false without one.
func (r Row) Met() (met, ok bool) {
	if r.Target == nil {
		return false, false
	}
	q := r.Ratio()
	if math.IsNaN(q) {
		return false, true
	}
	if r.Target.AtLeast {
		return q >= r.Target.Bound, true
	}
	return q <= r.Target.Bound, true
}

// Report is a run's rows in table order.
type Report struct {
	Rows []Row
}

func (rep *Report) add(r Row) { rep.Rows = append(rep.Rows, r) }

// Find returns the row with id.
func (rep *Report) Find(id string) (Row, bool) {
	for _, r := range rep.Rows {
		if r.ID == id {
			return r, true
		}
	}
	return Row{}, false
}

// WriteTable prints the rows as a Markdown table.
func (rep *Report) WriteTable(w io.Writer) {
	fmt.Fprintln(w, "| id | measurement | figure | baseline | baseline figure | ratio | target | |")
	fmt.Fprintln(w, "|---|---|--:|---|--:|--:|---|---|")
	for _, r := range rep.Rows {
		target, verdict := "", ""
		if r.Target != nil {
			target = r.Target.String()
			switch met, _ := r.Met(); {
			case math.IsNaN(r.Ratio()):
				verdict = "not run"
			case met:
				verdict = "met"
			default:
				verdict = "**missed**"
			}
		}
		base := r.Base
		if base == r.ID {
			base = "(baseline)"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.ID, r.Name, human(r.Value, r.Unit), base,
			human(r.BaseValue, r.Unit), ratio(r.Ratio()), target, verdict)
	}
	var notes []string
	for _, r := range rep.Rows {
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("- %s: %s", r.ID, r.Note))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, strings.Join(notes, "\n"))
	}
}

func ratio(q float64) string {
	if math.IsNaN(q) || math.IsInf(q, 0) {
		return "n/a"
	}
	switch {
	case q >= 100:
		return fmt.Sprintf("%.0f×", q)
	case q >= 0.01:
		return fmt.Sprintf("%.2f×", q)
	default:
		return fmt.Sprintf("%.4f×", q)
	}
}

// human formats v in unit: rates and sizes with thousands separators,
// durations in the most readable unit. Durations are kept in seconds.
func human(v float64, unit string) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	switch unit {
	case "s":
		switch {
		case v < 1e-3:
			return fmt.Sprintf("%.0f µs", v*1e6)
		case v < 1:
			return fmt.Sprintf("%.1f ms", v*1e3)
		default:
			return fmt.Sprintf("%.2f s", v)
		}
	case "MiB":
		return fmt.Sprintf("%.0f MiB", v)
	}
	if v >= 100 {
		return thousands(int64(math.Round(v))) + " " + unit
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
