package lifecycle

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"

	"github.com/stackagent/stackagent/internal/jsontree"
	"github.com/stackagent/stackagent/internal/names"
)

// Limits on a message body, checked before it is decoded (size, depth)
// and right after (numbers). A message over a limit is refused with a
// result saying which limit, so nothing is lost and nothing loops.
const (
	// MaxMessageBytes is the largest message body accepted: 256 KiB, the
	// SQS maximum. The inbox reads no more than one byte past it.
	MaxMessageBytes = 256 << 10
	// MaxJSONDepth is the deepest nesting of objects and arrays accepted
	// in one JSON document (an envelope's payload counts on its own).
	MaxJSONDepth = 64
)

// checkSize refuses a body over MaxMessageBytes.
func checkSize(body []byte) error {
	if len(body) > MaxMessageBytes {
		return &ParseError{Err: ErrRefused, Reason: fmt.Sprintf(
			"message is more than %d bytes (the SQS maximum); send large configuration by reference", MaxMessageBytes)}
	}
	return nil
}

// jsonDepth returns the deepest nesting of objects and arrays in b,
// stopping as soon as it passes limit. Brackets inside strings do not
// count. It does not validate: the decoder does that afterwards.
func jsonDepth(b []byte, limit int) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > limit {
					return deepest
				}
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// checkDepth refuses a document nested deeper than MaxJSONDepth; field
// names where it sits ("" for the message body).
func checkDepth(field string, b []byte) error {
	if jsonDepth(b, MaxJSONDepth) > MaxJSONDepth {
		return &ParseError{Err: ErrRefused, Field: field,
			Reason: fmt.Sprintf("JSON nested more than %d levels deep", MaxJSONDepth)}
	}
	return nil
}

// checkNumbers refuses a number that is not finite once decoded (1e400
// overflows a float64 to +Inf, which no JSON encoder writes back). It
// returns the path of the first such number, in key order.
func checkNumbers(path string, v any) error {
	switch x := v.(type) {
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return &ParseError{Err: ErrRefused, Field: path,
				Reason: "number out of range (want a finite 64-bit float or integer)"}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := checkNumbers(joinField(path, k), x[k]); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := checkNumbers(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	}
	return nil
}

// joinField appends key to a field path: a.b for plain keys, a["x y"]
// for the rest.
func joinField(path, key string) string {
	if names.Valid(key) && !containsDot(key) {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

func containsDot(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return true
		}
	}
	return false
}

// checkDeployNames checks the app names that key attributes.deploy (each
// becomes /srv/www/<app>); field is where attrs sit ("attributes",
// "NotificationMetadata.attributes", "/etc/stackagent/attributes.d/x.json").
func checkDeployNames(field string, attrs map[string]any) (string, error) {
	dep, ok := attrs["deploy"]
	if !ok || dep == nil {
		return "", nil
	}
	field = joinField(field, "deploy")
	m, isObj := dep.(map[string]any)
	if !isObj {
		return field, fmt.Errorf("want an object of apps, got %s", jsonKind(dep))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := field + "[" + strconv.Quote(k) + "]"
		if err := names.Check(f, "app name", k); err != nil {
			return f, err
		}
	}
	return "", nil
}

// ReadAttributeFile reads an attribute file (attributes.d/*.json, a -j
// file) under the limits an event's attributes have: nesting no deeper
// than MaxJSONDepth (checked before decoding), finite numbers, app names
// keying deploy. Its errors name the file and the field.
func ReadAttributeFile(file string) (map[string]any, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if jsonDepth(b, MaxJSONDepth) > MaxJSONDepth {
		return nil, fmt.Errorf("%s: JSON nested more than %d levels deep", file, MaxJSONDepth)
	}
	m, err := jsontree.ParseObject(file, b)
	if err != nil {
		return nil, err
	}
	if err := checkNumbers("", m); err != nil {
		pe := err.(*ParseError)
		return nil, fmt.Errorf("%s: %s: %s", file, pe.Field, pe.Reason)
	}
	return m, CheckAttributeNames(file, m)
}

// CheckAttributeNames checks the names in an attribute file (the app
// names keying deploy) and says file and field in its error. The agent
// calls it for attributes.d/*.json and every -j file.
func CheckAttributeNames(file string, attrs map[string]any) error {
	if _, err := checkDeployNames("", attrs); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}
