package resources

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/stackagent/stackagent/recipes"
)

// httpRequestKind is Chef's http_request: an HTTP request made on every
// converge (like execute, guards decide), the resource's action being the
// method; a status outside 2xx fails it. The message is the body of
// post, put and patch (Chef sends it as the query of a get too; here a
// get carries none).
func httpRequestKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "http_request", Actions: []string{"get", "post", "put", "patch", "delete", "head", "options"}, DefaultAction: "get",
		Doc: "make an HTTP request",
		Props: []recipes.Prop{
			{Name: "url", Type: recipes.String, NameProperty: true},
			{Name: "message", Type: recipes.String, Default: ""},
			{Name: "headers", Type: recipes.Map},
		},
		Provider: recipes.ProviderFunc(planHTTPRequest),
		Validate: func(_ *recipes.RunContext, r *recipes.Resource) error { return checkHTTPRequest(r) },
	}
}

func checkHTTPRequest(r *recipes.Resource) error {
	if u, err := url.Parse(r.Str("url")); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("property url: %q: want an http or https URL", r.Str("url"))
	}
	for k, v := range r.Map("headers") {
		if strings.ContainsAny(k, "\r\n: ") || strings.ContainsAny(fmt.Sprint(v), "\r\n") {
			return fmt.Errorf("property headers: %q: want a header name and a one-line value", k)
		}
	}
	return nil
}

func planHTTPRequest(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	if err := checkHTTPRequest(r); err != nil {
		return nil, err
	}
	method := strings.ToUpper(action)
	return []recipes.Step{{Desc: fmt.Sprintf("%s %s", method, r.Str("url")), Apply: func(ctx context.Context) error {
		var body io.Reader
		if method == "POST" || method == "PUT" || method == "PATCH" {
			body = strings.NewReader(r.Str("message"))
		}
		req, err := http.NewRequestWithContext(ctx, method, r.Str("url"), body)
		if err != nil {
			return err
		}
		for k, v := range r.Map("headers") {
			req.Header.Set(k, fmt.Sprint(v))
		}
		resp, err := rc.HTTP.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return fmt.Errorf("%s %s: %s", method, r.Str("url"), resp.Status)
		}
		return nil
	}}}, nil
}
