// Package keys loads parcours' two secrets: the master key, which wraps
// every customer's data key in the identity vault, and the pepper, under
// which customer keys and identifier tokens are HMACs. They come from the
// environment (PARCOURS_MASTER_KEY, PARCOURS_PEPPER) or, when unset, from a
// key file created with mode 0600 on first use. An existing key file that is
// unreadable or malformed is an error: a fresh key would silently orphan
// every encrypted value and change every customer key.
package keys

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Size is the length in bytes of the master key (AES-256) and of the pepper.
const Size = 32

// Environment variables that override the key file.
const (
	EnvMasterKey = "PARCOURS_MASTER_KEY"
	EnvPepper    = "PARCOURS_PEPPER"
	// EnvNewMasterKey is the key `parcours keys rotate` moves to when the
	// master key comes from the environment (it cannot write the environment).
	EnvNewMasterKey = "PARCOURS_NEW_MASTER_KEY"
)

// Secrets are the loaded secrets. Never log them.
type Secrets struct {
	MasterKey []byte
	Pepper    []byte
	// NextMasterKey is the key a rotation is moving to, while one is under
	// way (key file: next_master_key; or PARCOURS_NEW_MASTER_KEY).
	NextMasterKey []byte
	// MasterSource and PepperSource say where each came from, for messages.
	MasterSource string
	PepperSource string
}

// ErrKey marks a problem with a key: wrong, missing, unreadable. The CLI
// maps it to exit code 2 (configuration error): retrying will not help.
var ErrKey = errors.New("key error")

type keyFile struct {
	Version   int    `json:"version"`
	MasterKey string `json:"master_key,omitempty"`
	// NextMasterKey is set while a rotation is under way.
	NextMasterKey string `json:"next_master_key,omitempty"`
	Pepper        string `json:"pepper,omitempty"`
	CreatedAt     string `json:"created_at"`
}

// Load resolves both secrets. When create is true and the key file does not
// exist, it is created holding whichever secrets the environment does not
// provide; when create is false a missing secret is an error (read-only
// commands must not mint keys).
func Load(path string, create bool) (*Secrets, error) {
	s := &Secrets{}
	var err error
	if v := os.Getenv(EnvMasterKey); v != "" {
		if s.MasterKey, err = decode(v); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrKey, EnvMasterKey, err)
		}
		s.MasterSource = EnvMasterKey
	}
	if v := os.Getenv(EnvPepper); v != "" {
		if s.Pepper, err = decode(v); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrKey, EnvPepper, err)
		}
		s.PepperSource = EnvPepper
	}
	if v := os.Getenv(EnvNewMasterKey); v != "" {
		if s.NextMasterKey, err = decode(v); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrKey, EnvNewMasterKey, err)
		}
	}
	if s.MasterKey != nil && s.Pepper != nil {
		return s, nil
	}
	kf, err := readFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if !create {
			return nil, fmt.Errorf("%w: no key file at %s and %s/%s not set", ErrKey, path, EnvMasterKey, EnvPepper)
		}
		kf, err = createFile(path, s.MasterKey == nil, s.Pepper == nil)
	}
	if err != nil {
		return nil, err
	}
	if s.MasterKey == nil {
		if kf.MasterKey == "" {
			return nil, fmt.Errorf("%w: key file %s holds no master key and %s is not set", ErrKey, path, EnvMasterKey)
		}
		if s.MasterKey, err = decode(kf.MasterKey); err != nil {
			return nil, fmt.Errorf("%w: key file %s: master_key: %v", ErrKey, path, err)
		}
		s.MasterSource = path
		if kf.NextMasterKey != "" && s.NextMasterKey == nil {
			if s.NextMasterKey, err = decode(kf.NextMasterKey); err != nil {
				return nil, fmt.Errorf("%w: key file %s: next_master_key: %v", ErrKey, path, err)
			}
		}
	}
	if s.Pepper == nil {
		if kf.Pepper == "" {
			return nil, fmt.Errorf("%w: key file %s holds no pepper and %s is not set", ErrKey, path, EnvPepper)
		}
		if s.Pepper, err = decode(kf.Pepper); err != nil {
			return nil, fmt.Errorf("%w: key file %s: pepper: %v", ErrKey, path, err)
		}
		s.PepperSource = path
	}
	return s, nil
}

func readFile(path string) (*keyFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: key file %s exists but cannot be read (not creating a new one): %v", ErrKey, path, err)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil || kf.Version != 1 {
		return nil, fmt.Errorf("%w: key file %s is not a parcours key file (not creating a new one)", ErrKey, path)
	}
	return &kf, nil
}

func createFile(path string, master, pepper bool) (*keyFile, error) {
	kf := &keyFile{Version: 1, CreatedAt: time.Now().UTC().Format(time.RFC3339)}
	if master {
		kf.MasterKey = base64.StdEncoding.EncodeToString(Random(Size))
	}
	if pepper {
		kf.Pepper = base64.StdEncoding.EncodeToString(Random(Size))
	}
	b, _ := json.MarshalIndent(kf, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("%w: create key file %s: %v", ErrKey, path, err)
	}
	// O_EXCL: if another process created it meanwhile, use theirs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return readFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: create key file %s: %v", ErrKey, path, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: write key file %s: %v", ErrKey, path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: write key file %s: %v", ErrKey, path, err)
	}
	return kf, f.Close()
}

// decode accepts a 32-byte key as standard base64 or hex.
func decode(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	if b, err := hex.DecodeString(v); err == nil && len(b) == Size {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(v); err == nil && len(b) == Size {
		return b, nil
	}
	return nil, fmt.Errorf("want %d bytes as base64 or hex", Size)
}

// Encode renders a key the way Load reads it (base64).
func Encode(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// Random returns n bytes from the system's secure random source.
func Random(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand never fails on supported platforms; if it does, no
		// key may be minted.
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return b
}

// BeginRotation returns the master key a rotation moves to. With the
// master key in the key file, a new key is minted and saved there as
// next_master_key first (or the one saved by an interrupted rotation is
// reused), so an interruption never loses it. With the master key in the
// environment, the new key must be given in PARCOURS_NEW_MASTER_KEY.
func BeginRotation(path string, s *Secrets) ([]byte, error) {
	if s.NextMasterKey != nil {
		return s.NextMasterKey, nil
	}
	if s.MasterSource == EnvMasterKey {
		return nil, fmt.Errorf("%w: the master key comes from %s; set %s to the new key (e.g. `openssl rand -base64 32`) and run again",
			ErrKey, EnvMasterKey, EnvNewMasterKey)
	}
	kf, err := readFile(path)
	if err != nil {
		return nil, err
	}
	next := Random(Size)
	kf.NextMasterKey = Encode(next)
	if err := rewriteFile(path, kf); err != nil {
		return nil, err
	}
	s.NextMasterKey = next
	return next, nil
}

// CompleteRotation makes the next master key the master key in the key
// file. A no-op when the master key lives in the environment.
func CompleteRotation(path string, s *Secrets) error {
	if s.MasterSource == EnvMasterKey {
		return nil
	}
	kf, err := readFile(path)
	if err != nil {
		return err
	}
	if kf.NextMasterKey == "" {
		return nil
	}
	kf.MasterKey, kf.NextMasterKey = kf.NextMasterKey, ""
	if err := rewriteFile(path, kf); err != nil {
		return err
	}
	s.MasterKey, s.NextMasterKey = s.NextMasterKey, nil
	return nil
}

// rewriteFile replaces the key file atomically (temporary file, sync, rename).
func rewriteFile(path string, kf *keyFile) error {
	b, _ := json.MarshalIndent(kf, "", "  ")
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("%w: write key file %s: %v", ErrKey, path, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("%w: write key file %s: %v", ErrKey, path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("%w: write key file %s: %v", ErrKey, path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%w: write key file %s: %v", ErrKey, path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("%w: write key file %s: %v", ErrKey, path, err)
	}
	return nil
}
