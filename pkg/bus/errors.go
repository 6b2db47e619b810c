package bus

import (
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The endpoint's error decides what happens to the message; this is the one
// place that mapping lives:
//
//	nil                 → ack (after the encoder published the stage's event)
//	Permanent(err)      → dead letter, then term: retrying cannot help
//	RetryAfter(err, d)  → nak with delay d: a dependency needs time
//	any other error     → nak with exponential backoff; on the last allowed
//	                      delivery, dead letter and term
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as one no redelivery can fix: a malformed message,
// a poison payload, a contract violation.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

type retryAfterError struct {
	err   error
	delay time.Duration
}

func (e retryAfterError) Error() string { return e.err.Error() }
func (e retryAfterError) Unwrap() error { return e.err }

// RetryAfter asks for redelivery after d, for a dependency that needs time
// (a rate limit's reset, a scheduled time not yet reached).
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return retryAfterError{err, d}
}

// RetryDelay returns the delay requested by RetryAfter.
func RetryDelay(err error) (time.Duration, bool) {
	var r retryAfterError
	if errors.As(err, &r) {
		return r.delay, true
	}
	return 0, false
}

// Backoff is the default nak delay before delivery n+1 after n failures:
// 250ms doubling, capped at 30s.
func Backoff(delivered uint64) time.Duration {
	d := 250 * time.Millisecond
	for i := uint64(1); i < delivered && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}

// IsStreamFull reports whether err is a publish the stream refused for want
// of room: its MaxBytes or MaxMsgs reached with discard-new, or the
// server's JetStream storage exhausted. It is a state of the log, not of the
// message: ingest answers 503, and a stage holds its message until there is
// room again (see Subscriber) instead of retrying it into the dead letters.
func IsStreamFull(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode {
	case jsErrCodeInsufficientResources, jsErrCodeStorageResourcesExceeded:
		return true
	case jsErrCodeStreamStoreFailed:
		// The generic store failure; its description is the store's error.
		d := apiErr.Description
		return strings.Contains(d, "maximum bytes exceeded") || strings.Contains(d, "maximum messages exceeded") ||
			strings.Contains(d, "maximum messages per subject exceeded")
	}
	return false
}

// Error codes of the server that nats.go does not name.
const (
	jsErrCodeInsufficientResources    jetstream.ErrorCode = 10023 // JSInsufficientResourcesErr
	jsErrCodeStorageResourcesExceeded jetstream.ErrorCode = 10047 // JSStorageResourcesExceededErr
	jsErrCodeStreamStoreFailed        jetstream.ErrorCode = 10077 // JSStreamStoreFailedF: "{err}"
)
