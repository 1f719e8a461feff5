// Package heal is the daemon's auto heal: a watchdog that checks the
// services the cookbooks mark as watched and restarts a dead one, with
// back-off; optional local HTTP checks that trigger the same repair;
// escalation to the Auto Scaling group (SetInstanceHealth Unhealthy) when
// repairs keep failing; and the drift-correction scheduler that hands the
// daemon a periodic configure run. It keeps no global state: the agent
// builds a Watchdog and a Drift per daemon and the Metrics once.
package heal

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Service is one watched service, as a cookbook declares it in the node:
//
//	node.default.stackagent.watch.services.apache2 = {
//	  init = "apache2", pidfile = "/var/run/apache2/apache2.pid",
//	  http = { path = "/", host = "wp.test", status = 200 },
//	}
//
// A service set to false (node.default.stackagent.watch.services.apache2 =
// false) is no longer watched.
type Service struct {
	// Name is the key under stackagent.watch.services.
	Name string `json:"name"`
	// Init is the service's name for the init system (the service
	// resource's service_name): the init script /etc/init.d/INIT or the
	// systemd unit INIT.service. Default: Name.
	Init string `json:"init,omitempty"`
	// InitCommand replaces /etc/init.d/INIT (the resource's init_command).
	InitCommand string `json:"init_command,omitempty"`
	// PIDFile is checked without spawning a process (init-script hosts).
	PIDFile string `json:"pidfile,omitempty"`
	// Process, when set, is the command name (/proc/PID/comm) the pid
	// file's process must have (a reused pid is not the service).
	Process string `json:"process,omitempty"`
	// RestartCommand replaces the init system's restart: a shell command
	// the cookbook author wrote (sh -c).
	RestartCommand string `json:"restart_command,omitempty"`
	// RestartArgv replaces it as argv, run without a shell (restart_command
	// given as a list): the form for values from the stack JSON.
	RestartArgv []string `json:"restart_argv,omitempty"`
	// StartTimeout bounds the restart and the wait for the service to be
	// up again (default 60 s).
	StartTimeout time.Duration `json:"start_timeout,omitempty"`
	// HTTP are local web checks; a failing one triggers a restart.
	HTTP []HTTPCheck `json:"http,omitempty"`
}

// HTTPCheck is a local web check: GET http://127.0.0.1:PORT/PATH with
// Host: HOST must answer Status within Timeout.
type HTTPCheck struct {
	// Name is the app's name (or the service's for a check declared on
	// the service).
	Name    string        `json:"name"`
	Path    string        `json:"path"`
	Host    string        `json:"host,omitempty"`
	Port    int           `json:"port"`
	Status  int           `json:"status"`
	Timeout time.Duration `json:"timeout"`
	// Failures is how many checks in a row must fail before a repair
	// (default 2: one slow answer is not a dead server).
	Failures int `json:"failures"`
}

func (s *Service) initName() string {
	if s.Init != "" {
		return s.Init
	}
	return s.Name
}

func (s *Service) startTimeout() time.Duration {
	if s.StartTimeout > 0 {
		return s.StartTimeout
	}
	return 60 * time.Second
}

// Watches is what one converge's node declares: services to watch and
// names no longer watched.
type Watches struct {
	Services []Service
	Removed  []string
}

// ParseWatches reads stackagent.watch from merged node attributes:
// stackagent.watch.services (name → table or false) and
// stackagent.watch.http (app → check table naming its service). Problems
// with one entry are returned and that entry left out.
func ParseWatches(attrs map[string]any) (Watches, []error) {
	var w Watches
	var errs []error
	watch := path(attrs, "stackagent", "watch")
	svcs, _ := watch["services"].(map[string]any)
	byName := map[string]*Service{}
	for _, name := range sortedKeys(svcs) {
		switch v := svcs[name].(type) {
		case bool:
			if !v {
				w.Removed = append(w.Removed, name)
			}
		case map[string]any:
			s, err := parseService(name, v)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			w.Services = append(w.Services, s)
		default:
			errs = append(errs, fmt.Errorf("stackagent.watch.services.%s: want a table or false", name))
		}
	}
	for i := range w.Services {
		byName[w.Services[i].Name] = &w.Services[i]
	}
	apps, _ := watch["http"].(map[string]any)
	for _, app := range sortedKeys(apps) {
		m, ok := apps[app].(map[string]any)
		if !ok {
			continue // false: no check for this app
		}
		svc, _ := m["service"].(string)
		s := byName[svc]
		if s == nil {
			errs = append(errs, fmt.Errorf("stackagent.watch.http.%s: service %q is not watched", app, svc))
			continue
		}
		c, err := parseHTTP(app, m)
		if err != nil {
			errs = append(errs, fmt.Errorf("stackagent.watch.http.%s: %w", app, err))
			continue
		}
		s.HTTP = append(s.HTTP, c)
	}
	return w, errs
}

func parseService(name string, m map[string]any) (Service, error) {
	s := Service{Name: name, Init: str(m["init"]), InitCommand: str(m["init_command"]), PIDFile: str(m["pidfile"]),
		Process: str(m["process"])}
	var err error
	if s.RestartCommand, s.RestartArgv, err = restartCommand(m["restart_command"]); err != nil {
		return s, fmt.Errorf("stackagent.watch.services.%s.%w", name, err)
	}
	if n, ok := num(m["start_timeout"]); ok && n > 0 {
		s.StartTimeout = time.Duration(n * float64(time.Second))
	}
	if h, ok := m["http"].(map[string]any); ok {
		c, err := parseHTTP(name, h)
		if err != nil {
			return s, fmt.Errorf("stackagent.watch.services.%s.http: %w", name, err)
		}
		s.HTTP = append(s.HTTP, c)
	}
	return s, nil
}

// restartCommand reads restart_command: a string is a shell command, a
// list of strings argv.
func restartCommand(v any) (string, []string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil, nil
	case string:
		return x, nil, nil
	case []string:
		v = stringsToAny(x)
	}
	l, ok := v.([]any)
	if !ok || len(l) == 0 {
		return "", nil, fmt.Errorf("restart_command: want a shell command (string) or argv (a non-empty list of strings)")
	}
	argv := make([]string, len(l))
	for i, e := range l {
		a, ok := e.(string)
		if !ok || (i == 0 && a == "") || strings.ContainsRune(a, 0) {
			return "", nil, fmt.Errorf("restart_command[%d]: want a string (argv[0] non-empty)", i+1)
		}
		argv[i] = a
	}
	return "", argv, nil
}

func stringsToAny(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

func parseHTTP(name string, m map[string]any) (HTTPCheck, error) {
	c := HTTPCheck{Name: name, Path: str(m["path"]), Host: str(m["host"]), Port: 80, Status: 200, Timeout: 5 * time.Second, Failures: 2}
	if c.Path == "" {
		c.Path = "/"
	}
	if !strings.HasPrefix(c.Path, "/") {
		return c, fmt.Errorf("path %q: want an absolute path", c.Path)
	}
	if n, ok := num(m["port"]); ok {
		c.Port = int(n)
	}
	if n, ok := num(m["status"]); ok {
		c.Status = int(n)
	}
	if n, ok := num(m["timeout"]); ok && n > 0 {
		c.Timeout = time.Duration(n * float64(time.Second))
	}
	if n, ok := num(m["failures"]); ok && n >= 1 {
		c.Failures = int(n)
	}
	if c.Port < 1 || c.Port > 65535 {
		return c, fmt.Errorf("port %d: want 1 to 65535", c.Port)
	}
	return c, nil
}

func path(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, _ := m[k].(map[string]any)
		if next == nil {
			return nil
		}
		m = next
	}
	return m
}

func str(v any) string { s, _ := v.(string); return s }

func num(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
