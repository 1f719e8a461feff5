package main

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stackagent/stackagent/lifecycle"
)

// durationType is time.Duration's: such keys take "90s", "10m".
var durationType = reflect.TypeOf(time.Duration(0))

// decodeConfig decodes YAML strictly (unknown keys are errors) and returns
// the line of each top-level key.
func decodeConfig(path string, b []byte, cfg *Config) (map[string]int, error) {
	root, err := configRoot(path, b)
	if err != nil {
		return nil, err
	}
	lines := map[string]int{}
	if root == nil {
		return lines, nil
	}
	known := map[string]bool{"custom_cookbooks": true}
	for _, f := range configKeys() {
		known[keyName(f)] = true
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if err := checkKey(path, k.Value, k, known, lines); err != nil {
			return nil, err
		}
		if err := decodeKey(path, k, v, cfg, lines); err != nil {
			return nil, err
		}
	}
	return lines, nil
}

// configRoot parses the file and returns its top-level mapping; nil for
// an empty file, or one of only "---" or "~" (the defaults run).
func configRoot(path string, b []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, yamlError(path, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &ConfigError{Source: path, Line: root.Line, Msg: "want a mapping of keys to values"}
	}
	return root, nil
}

// checkKey refuses an unknown or repeated key k (key is its full name,
// block.key in a block) and records its line.
func checkKey(path, key string, k *yaml.Node, known map[string]bool, lines map[string]int) error {
	if !known[k.Value] {
		return &ConfigError{Source: path, Line: k.Line, Key: key, Msg: "unknown key" + suggestKey(k.Value, known)}
	}
	if prev, dup := lines[key]; dup {
		return &ConfigError{Source: path, Line: k.Line, Key: key, Msg: fmt.Sprintf("given twice (also on line %d)", prev)}
	}
	lines[key] = k.Line
	return nil
}

// decodeKey sets the field of the (known) top-level key k from v.
func decodeKey(path string, k, v *yaml.Node, cfg *Config, lines map[string]int) error {
	if k.Value == "custom_cookbooks" {
		if err := checkBlock(path, k.Value, v, reflect.TypeOf(lifecycle.CookbookSource{}), lines); err != nil {
			return err
		}
	}
	f, _ := configField(k.Value)
	field := reflect.ValueOf(cfg).Elem().FieldByIndex(f.Index)
	if f.Type == durationType {
		d, err := time.ParseDuration(v.Value)
		if err != nil {
			return &ConfigError{Source: path, Line: v.Line, Key: k.Value, Msg: fmt.Sprintf("%q is not a duration such as 90s or 10m", v.Value)}
		}
		field.SetInt(int64(d))
		return nil
	}
	if err := v.Decode(field.Addr().Interface()); err != nil {
		ce := yamlError(path, err)
		ce.Key = k.Value
		if ce.Line == 0 {
			ce.Line = v.Line
		}
		return ce
	}
	return nil
}

// configField is the Config field of a key.
func configField(key string) (reflect.StructField, bool) {
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); keyName(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// checkBlock rejects unknown and repeated keys in a mapping block (yaml.v3
// decodes a Node leniently) and records the line of each as
// lines["block.key"].
func checkBlock(path, block string, v *yaml.Node, t reflect.Type, lines map[string]int) error {
	if v.Kind != yaml.MappingNode {
		return nil // null, or a wrong type Decode reports
	}
	known := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		known[keyName(t.Field(i))] = true
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k := v.Content[i]
		if err := checkKey(path, block+"."+k.Value, k, known, lines); err != nil {
			return err
		}
	}
	return nil
}

func yamlError(path string, err error) *ConfigError {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if strings.HasPrefix(msg, "line ") {
		if n, rest, ok := strings.Cut(strings.TrimPrefix(msg, "line "), ":"); ok {
			line, _ = strconv.Atoi(n)
			msg = strings.TrimSpace(rest)
		}
	}
	if ue := (*yaml.TypeError)(nil); errors.As(err, &ue) && len(ue.Errors) > 0 {
		msgs := make([]string, len(ue.Errors))
		for i, e := range ue.Errors {
			if n, rest, ok := strings.Cut(strings.TrimPrefix(e, "line "), ": "); ok && strings.HasPrefix(e, "line ") {
				if line == 0 {
					line, _ = strconv.Atoi(n)
				}
				e = rest
			}
			msgs[i] = e
		}
		msg = strings.Join(msgs, "; ")
	}
	return &ConfigError{Source: path, Line: line, Msg: msg}
}

func suggestKey(k string, known map[string]bool) string {
	for name := range known {
		if strings.ReplaceAll(name, "_", "") == strings.ReplaceAll(strings.ReplaceAll(k, "-", ""), "_", "") {
			return fmt.Sprintf(" (did you mean %s?)", name)
		}
	}
	return ""
}

// setField sets a key from a flag or environment string.
func setField(cfg *Config, f reflect.StructField, s string) error {
	v := reflect.ValueOf(cfg).Elem().FieldByIndex(f.Index)
	switch {
	case f.Type == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 90s or 10m", s)
		}
		v.SetInt(int64(d))
	case f.Type.Kind() == reflect.String:
		v.SetString(s)
	case f.Type.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(int64(n))
	case f.Type.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	case f.Type.Kind() == reflect.Slice:
		var list []string
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x != "" {
				list = append(list, x)
			}
		}
		v.Set(reflect.ValueOf(list))
	}
	return nil
}
