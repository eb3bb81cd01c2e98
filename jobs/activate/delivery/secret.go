package delivery

import "fmt"

// Secret reads the secret a destination option names: key is the option
// (secret_env), env the variable it names. Secrets never sit in the
// configuration file. An unset option is no secret; a named variable that
// is empty or unset is an error.
func Secret(getenv func(string) string, key, env string) (string, error) {
	if env == "" {
		return "", nil
	}
	v := getenv(env)
	if v == "" {
		return "", fmt.Errorf("environment variable %s (%s) is empty or unset", env, key)
	}
	return v, nil
}

// Settings are what the keys every destination has give its connector.
type Settings struct {
	// Delivery tunes timeouts, retries and the request rate; its
	// Destination is the destination's name.
	Delivery Config
	// BatchSize is the most members per request (0: the connector's).
	BatchSize int
	// DefaultCountry (ISO 3166 alpha-2) is the country of members whose
	// phone or address names none.
	DefaultCountry string
}
