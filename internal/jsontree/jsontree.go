// Package jsontree holds the helpers for decoded JSON trees
// (map[string]any, []any, string, bool, float64, int64) that the engine,
// the lifecycle and the agent share: parse with exact numbers, deep copy,
// deep merge. It imports nothing of the project.
package jsontree

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Copy returns a deep copy of v: maps and lists copied, a []string turned
// into a []any, anything else returned as is.
func Copy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = Copy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = Copy(e)
		}
		return l
	case []string:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = e
		}
		return l
	}
	return v
}

// Merge merges a copy of src into dst: maps recursively, anything else
// (lists included) replaced, as attribute precedence does.
func Merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				Merge(dm, sm)
				continue
			}
		}
		dst[k] = Copy(v)
	}
}

// Normalize turns values decoded by encoding/json (and Go literals used by
// tests and callers) into the shapes the engine uses: map[string]any,
// []any, string, bool, float64, int64.
func Normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = Normalize(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = Normalize(e)
		}
		return l
	case []string:
		return Copy(x)
	case int:
		return int64(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// ParseObject parses a JSON object with numbers kept exact; name is used
// in errors, which carry the line and column.
func ParseObject(name string, b []byte) (map[string]any, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %s", name, ErrorWhere(b, err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: more than one JSON value", name)
	}
	if m == nil {
		return nil, fmt.Errorf("%s: want a JSON object", name)
	}
	return Normalize(m).(map[string]any), nil
}

// ErrorWhere adds the line and column to a JSON syntax or type error.
func ErrorWhere(b []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset - 1 // Offset counts the bad byte itself
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return err.Error()
	}
	line, col := 1, 1
	for _, c := range b[:min(int(off), len(b))] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}
