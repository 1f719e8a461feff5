package recipes

import (
	"strings"
	"unicode"
)

// Secrets are hidden wherever the run reports, and resources that hold one
// become sensitive on their own (no diff, no content), whether or not the
// recipe said `sensitive = true`. What counts as a secret:
//
//   - every value resolved from a secret reference ({"secret": "REF"}) in
//     this run, and
//   - every plaintext string attribute under a credential key
//     (credentialKey: password, secret, token, ssh_key, AUTH_KEY, …),
//
// each in the forms it takes once escaped (escapedForms).

// credentialKey tells whether an attribute key names a credential:
// it contains password, passwd, passphrase, secret, token or credential,
// or its last word is key(s), salt(s), pass or pwd (ssh_key, api_key,
// AUTH_KEY, keys) — unless the key names something about the credential
// rather than the credential itself (…_name, …_id, …_arn, …_path, …_file,
// …_url, …_ref, …_length, public_…).
func credentialKey(k string) bool {
	words := keyWords(k)
	if len(words) == 0 {
		return false
	}
	last := words[len(words)-1]
	switch last {
	case "name", "id", "arn", "path", "file", "url", "ref", "length", "size", "type", "ttl", "version", "dir", "owner", "group", "mode":
		return false
	}
	for _, w := range words {
		if w == "public" {
			return false
		}
	}
	lk := strings.ToLower(k)
	for _, s := range []string{"password", "passwd", "passphrase", "secret", "token", "credential"} {
		if strings.Contains(lk, s) {
			return true
		}
	}
	switch last {
	case "key", "keys", "salt", "salts", "pass", "pwd", "privatekey", "apikey":
		return true
	}
	return false
}

// keyWords splits an attribute key into lowercase words at anything not a
// letter or digit and at lower-to-upper case changes (sshKey → ssh key).
func keyWords(k string) []string {
	var words []string
	var cur []rune
	prevLower := false
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for _, r := range k {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			flush()
		}
		cur = append(cur, r)
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	flush()
	return words
}

// credentialValues lists the plaintext string values under credential keys
// of attrs (every string of the subtree under such a key). Secret
// references are skipped: their values are hidden once resolved.
func credentialValues(attrs map[string]any) []string {
	var out []string
	var walk func(v any, under bool)
	walk = func(v any, under bool) {
		if _, ok := secretRef(v); ok {
			return
		}
		switch x := v.(type) {
		case string:
			if under && x != "" {
				out = append(out, x)
			}
		case map[string]any:
			for k, e := range x {
				walk(e, under || credentialKey(k))
			}
		case []any:
			for _, e := range x {
				walk(e, under)
			}
		}
	}
	walk(attrs, false)
	return out
}

// secretRedactor is the redactor of the run's secrets: resolved references and
// credential attributes, in every escaped form.
func (rt *runtime) secretRedactor() redactor {
	vals := append(rt.secretValues(), rt.credentials...)
	if rt.redacted == nil || len(vals) != rt.redactedFor {
		rt.redacted = redactor(nil).with(vals...)
		rt.redactedFor = len(vals)
	}
	return rt.redacted
}

// noteCredentials records the credential attributes of the node, once the
// recipes have been compiled (they may set attributes).
func (rt *runtime) noteCredentials() {
	if rt.node == nil {
		return
	}
	rt.credentials = credentialValues(rt.node.Merged())
	rt.redacted = nil
}

// holdsSecret tells whether a converged resource holds a secret: a secret
// was read while it was resolved, guarded or planned (a lazy property, a
// template reading node.…), one of its properties contains one, or its
// planned content diff does.
func (c *converger) holdsSecret(r *Resource, readsBefore int, steps []Step) bool {
	if c.rt.secretReads > readsBefore {
		return true
	}
	rd := c.rt.secretRedactor()
	if len(rd) == 0 {
		return false
	}
	for _, v := range r.props {
		var vals redactor
		collectStrings(v, &vals)
		for _, s := range vals {
			if rd.contains(s) {
				return true
			}
		}
	}
	for _, s := range steps {
		if rd.contains(s.Diff) {
			return true
		}
	}
	return false
}

// CredentialKey tells whether an attribute or config key names a
// credential (password, secret, token, ssh_key, …), as the redactor
// decides which plaintext attribute values to hide.
func CredentialKey(k string) bool { return credentialKey(k) }

// redactedError is an error whose message is shown with secrets hidden;
// errors.Is and errors.As still see the original.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// compileErrors hides the run's secrets in compile errors (a recipe that
// fails with a message quoting a secret it read).
func (rd redactor) compileErrors(ce CompileErrors) CompileErrors {
	if len(rd) == 0 {
		return ce
	}
	out := make(CompileErrors, len(ce))
	for i, e := range ce {
		if msg := rd.apply(e.Error()); msg != e.Error() {
			e = &redactedError{msg: msg, err: e}
		}
		out[i] = e
	}
	return out
}
