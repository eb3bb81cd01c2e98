package delivery

import (
	"strings"
	"testing"
)

func TestSecret(t *testing.T) {
	env := map[string]string{"SET": "s3cret", "EMPTY": ""}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		name, env, want, err string
	}{
		{"no option, no secret", "", "", ""},
		{"set", "SET", "s3cret", ""},
		{"empty", "EMPTY", "", "environment variable EMPTY (secret_env) is empty or unset"},
		{"unset", "NOPE", "", "environment variable NOPE (secret_env) is empty or unset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Secret(getenv, "secret_env", tc.env)
			if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("Secret(%q) = %q, %v; want %q, %q", tc.env, got, err, tc.want, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Error("an error quotes the secret")
			}
		})
	}
}
