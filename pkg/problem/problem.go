// Package problem writes RFC 9457 problem details
// (application/problem+json), naming every field at fault.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ContentType of a problem document.
const ContentType = "application/problem+json"

// FieldError names one field at fault, as a JSON Pointer into the request
// body (or a header/parameter name), and why.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Details is an RFC 9457 problem document with the "errors" extension.
type Details struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	// RetryAfter, in seconds, is also sent as the Retry-After header.
	RetryAfter int `json:"retry_after,omitempty"`
}

func (d *Details) Error() string {
	if d.Detail != "" {
		return d.Title + ": " + d.Detail
	}
	return d.Title
}

// New makes a problem with status, a type URI under /problems/ and a title.
func New(status int, kind, title, detail string, errs ...FieldError) *Details {
	return &Details{
		Type:   "https://newsroom.dev/problems/" + kind,
		Title:  title,
		Status: status,
		Detail: detail,
		Errors: errs,
	}
}

// Write sends d.
func Write(w http.ResponseWriter, r *http.Request, d *Details) {
	if d.Instance == "" && r != nil {
		d.Instance = r.URL.Path
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if d.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfter))
	}
	w.WriteHeader(d.Status)
	_ = json.NewEncoder(w).Encode(d)
}
