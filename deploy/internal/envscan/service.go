package envscan

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// DeployedEnv are the variables every deployment sets for every service:
// where NATS is, where to listen, and where traces go under which name.
var DeployedEnv = []string{"NATS_URL", "HTTP_ADDR", "OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT"}

// Service is what one service binary reads from its environment, learned
// from its source.
type Service struct {
	Name string
	// Own are read by the service's module (services/<name>): its own
	// settings, which every deployment must set unless they are Optional.
	Own []string
	// Optional are the Own variables a deployment may leave out: the
	// service's own tuning and credentials, named <SERVICE>_* (every one
	// has a default; a network without credentials stays in dry run), and
	// alternatives to a required variable.
	Optional []string
	// Platform are read by pkg/daemon and pkg/telemetry, for any service.
	Platform []string
	// Port is the port of the DefaultAddr its main gives pkg/daemon.
	Port string
}

// LoadService reads services/<name> and the platform under root.
func LoadService(root, name string) (Service, error) {
	s := Service{Name: name}
	var err error
	if s.Own, err = Reads(filepath.Join(root, "services", name)); err != nil {
		return s, err
	}
	for _, dir := range []string{"pkg/daemon", "pkg/telemetry"} {
		vars, err := Reads(filepath.Join(root, dir))
		if err != nil {
			return s, err
		}
		s.Platform = append(s.Platform, vars...)
	}
	sort.Strings(s.Platform)
	prefix := strings.ToUpper(name) + "_"
	for _, k := range s.Own {
		if strings.HasPrefix(k, prefix) || strings.HasPrefix(k, SiteIdentityPrefix) || slices.Contains(Alternatives, k) {
			s.Optional = append(s.Optional, k)
		}
	}
	addrs, err := StringField(filepath.Join(root, "services", name, "cmd", name), "DefaultAddr")
	if err != nil {
		return s, err
	}
	if len(addrs) != 1 {
		return s, fmt.Errorf("%s: %d DefaultAddr values in its main, want 1", name, len(addrs))
	}
	if _, s.Port, err = net.SplitHostPort(addrs[0]); err != nil {
		return s, fmt.Errorf("%s: DefaultAddr %q: %w", name, addrs[0], err)
	}
	for _, k := range DeployedEnv {
		if !slices.Contains(s.Platform, k) && !slices.Contains(s.Own, k) {
			return s, fmt.Errorf("no code reads %s any more; update envscan.DeployedEnv and the deployments", k)
		}
	}
	return s, nil
}

// SiteIdentityPrefix names the publication's identity (name, logo, social
// handles…): every one has a default, so a deployment may leave it out.
const SiteIdentityPrefix = "NEWSROOM_SITE_"

// Alternatives are read instead of a required variable when set, e.g. a
// token file instead of the tokens.
var Alternatives = []string{"NEWSROOM_API_TOKENS_FILE"}

// Required are the variables a deployment must set for the service.
func (s Service) Required() []string {
	out := slices.Clone(DeployedEnv)
	for _, k := range s.Own {
		if !slices.Contains(s.Optional, k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// Reads reports whether the service reads k.
func (s Service) Reads(k string) bool {
	return slices.Contains(s.Own, k) || slices.Contains(s.Platform, k)
}

// Check compares the variables a deployment sets for the service with what
// it reads: every required one must be set, and nothing may be set that no
// code reads (a typo, or a setting that was removed). allowed are set on
// purpose for the runtime (PATH, HOME, …).
func (s Service) Check(set []string, allowed ...string) []error {
	var errs []error
	for _, k := range s.Required() {
		if !slices.Contains(set, k) {
			errs = append(errs, fmt.Errorf("%s: %s is read by the service and not set", s.Name, k))
		}
	}
	for _, k := range set {
		if !s.Reads(k) && !slices.Contains(allowed, k) {
			errs = append(errs, fmt.Errorf("%s: %s is set and no code of the service reads it", s.Name, k))
		}
	}
	return errs
}
