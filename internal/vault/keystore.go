// Package vault holds the cryptography of the identity vault: one random
// AES-256 data key per subject, wrapped by the master key and kept in a
// keystore file outside the DuckDB databases, and the AES-256-GCM sealing
// of each PII value under its subject's data key.
//
// The keystore lives apart from hot.duckdb on purpose: destroying a
// subject's data key (crypto-shredding) must make their values unreadable
// in every copy of hot.duckdb, including backups taken before the erasure.
// The file is rewritten whole and renamed into place, so a deleted key
// leaves no bytes behind in it, and every change is atomic.
package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/parcours/parcours/internal/keys"
)

// SubjectSize is the length of a subject id: the raw HMAC token of the
// subject's CRM customer id.
const SubjectSize = 32

// Subject identifies a vault subject.
type Subject [SubjectSize]byte

// ParseSubject reads a subject from its hex token.
func ParseSubject(token string) (Subject, error) {
	var s Subject
	b, err := hex.DecodeString(token)
	if err != nil || len(b) != SubjectSize {
		return s, fmt.Errorf("subject %q: want %d hex bytes", token, SubjectSize)
	}
	copy(s[:], b)
	return s, nil
}

// String is the hex token.
func (s Subject) String() string { return hex.EncodeToString(s[:]) }

const (
	magic      = "PCKS"
	version    = 1
	kcvSize    = 8
	nonceSize  = 12
	wrappedLen = nonceSize + 32 + 16 // nonce, data key, GCM tag
	recordLen  = SubjectSize + wrappedLen
	headerLen  = len(magic) + 1 + kcvSize + 8
)

// KeyCheckValue identifies a master key without revealing it: the first
// bytes of HMAC-SHA256(key, "parcours key check"). Stored in the keystore
// header, it tells a wrong master key from a damaged file.
func KeyCheckValue(master []byte) string {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("parcours key check"))
	return hex.EncodeToString(m.Sum(nil)[:kcvSize])
}

// Keystore is the set of wrapped data keys, loaded in memory.
type Keystore struct {
	path    string
	master  cipher.AEAD
	kcv     string
	wrapped map[Subject][]byte
	dirty   bool
}

// ErrWrongMaster is returned when the keystore was written under another
// master key. It wraps keys.ErrKey (a configuration error, exit 2).
var ErrWrongMaster = fmt.Errorf("%w: master key does not match the keystore", keys.ErrKey)

// OpenKeystore reads the keystore at path, which must be wrapped under
// master. A missing file is an empty keystore (created on first Save).
func OpenKeystore(path string, master []byte) (*Keystore, error) {
	aead, err := newAEAD(master)
	if err != nil {
		return nil, fmt.Errorf("%w: master key: %v", keys.ErrKey, err)
	}
	ks := &Keystore{path: path, master: aead, kcv: KeyCheckValue(master), wrapped: map[Subject][]byte{}}
	kcv, recs, err := readFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ks, nil
	}
	if err != nil {
		return nil, err
	}
	if kcv != ks.kcv {
		return nil, fmt.Errorf("%w (keystore %s was written under key check value %s, this key is %s)", ErrWrongMaster, path, kcv, ks.kcv)
	}
	ks.wrapped = recs
	return ks, nil
}

// FileKeyCheckValue returns the key check value in the header of the
// keystore at path ("" and no error when there is no keystore yet).
func FileKeyCheckValue(path string) (string, error) {
	kcv, _, err := readFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return kcv, err
}

func readFile(path string) (string, map[Subject][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil, err
		}
		return "", nil, fmt.Errorf("%w: keystore %s: %v", keys.ErrKey, path, err)
	}
	bad := func(why string) error {
		return fmt.Errorf("%w: keystore %s is damaged (%s); restore it from backup", keys.ErrKey, path, why)
	}
	if len(b) < headerLen || string(b[:4]) != magic {
		return "", nil, bad("not a parcours keystore")
	}
	if b[4] != version {
		return "", nil, bad(fmt.Sprintf("version %d", b[4]))
	}
	kcv := hex.EncodeToString(b[5 : 5+kcvSize])
	n := binary.BigEndian.Uint64(b[5+kcvSize : headerLen])
	body := b[headerLen:]
	if uint64(len(body)) != n*recordLen+sha256.Size {
		return "", nil, bad("truncated")
	}
	sum := sha256.Sum256(b[:len(b)-sha256.Size])
	if !bytes.Equal(sum[:], body[len(body)-sha256.Size:]) {
		return "", nil, bad("checksum mismatch")
	}
	recs := make(map[Subject][]byte, n)
	for i := uint64(0); i < n; i++ {
		r := body[i*recordLen : (i+1)*recordLen]
		var s Subject
		copy(s[:], r[:SubjectSize])
		recs[s] = append([]byte(nil), r[SubjectSize:]...)
	}
	return kcv, recs, nil
}

// Len is the number of data keys held.
func (k *Keystore) Len() int { return len(k.wrapped) }

// Has reports whether the subject has a data key.
func (k *Keystore) Has(s Subject) bool { _, ok := k.wrapped[s]; return ok }

// Subjects lists the subjects holding a data key, sorted.
func (k *Keystore) Subjects() []Subject {
	out := make([]Subject, 0, len(k.wrapped))
	for s := range k.wrapped {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out
}

// DataKey returns the subject's data key, minting one when create is true
// and the subject has none. ok is false when there is none (destroyed or
// never minted).
func (k *Keystore) DataKey(s Subject, create bool) (dk []byte, ok bool, err error) {
	if w, found := k.wrapped[s]; found {
		dk, err := k.master.Open(nil, w[:nonceSize], w[nonceSize:], s[:])
		if err != nil {
			return nil, false, fmt.Errorf("%w: data key of subject %s does not unwrap", keys.ErrKey, s)
		}
		return dk, true, nil
	}
	if !create {
		return nil, false, nil
	}
	dk = keys.Random(32)
	k.wrapped[s] = wrap(k.master, s, dk)
	k.dirty = true
	return dk, true, nil
}

// Destroy deletes the subject's data key: once saved, every value sealed
// under it is unreadable everywhere.
func (k *Keystore) Destroy(s Subject) bool {
	if _, ok := k.wrapped[s]; !ok {
		return false
	}
	delete(k.wrapped, s)
	k.dirty = true
	return true
}

func wrap(master cipher.AEAD, s Subject, dk []byte) []byte {
	nonce := keys.Random(nonceSize)
	return master.Seal(nonce, nonce, dk, s[:])
}

// Save writes the keystore if it changed: to a temporary file, synced,
// then renamed over the old one, so a crash leaves the old or the new
// keystore, never a mix.
func (k *Keystore) Save() error {
	if !k.dirty {
		return nil
	}
	if err := writeFile(k.path, k.kcv, k.wrapped); err != nil {
		return err
	}
	k.dirty = false
	return nil
}

func writeFile(path, kcv string, recs map[Subject][]byte) error {
	subjects := make([]Subject, 0, len(recs))
	for s := range recs {
		subjects = append(subjects, s)
	}
	sort.Slice(subjects, func(i, j int) bool { return bytes.Compare(subjects[i][:], subjects[j][:]) < 0 })
	var buf bytes.Buffer
	buf.Grow(headerLen + len(recs)*recordLen + sha256.Size)
	buf.WriteString(magic)
	buf.WriteByte(version)
	kb, _ := hex.DecodeString(kcv)
	buf.Write(kb)
	_ = binary.Write(&buf, binary.BigEndian, uint64(len(recs)))
	for _, s := range subjects {
		buf.Write(s[:])
		buf.Write(recs[s])
	}
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	return atomicWrite(path, buf.Bytes())
}

func atomicWrite(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write keystore %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write keystore %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write keystore %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write keystore %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write keystore %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write keystore %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Rewrap re-wraps every data key of the keystore at path from oldMaster to
// newMaster, without touching any sealed value. It is idempotent: a
// keystore already under newMaster is left as it is, so an interrupted
// rotation is finished by running it again. It returns the number of keys.
func Rewrap(path string, oldMaster, newMaster []byte) (int, error) {
	kcv, recs, err := readFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, writeFile(path, KeyCheckValue(newMaster), map[Subject][]byte{})
	}
	if err != nil {
		return 0, err
	}
	switch kcv {
	case KeyCheckValue(newMaster):
		return len(recs), nil
	case KeyCheckValue(oldMaster):
	default:
		return 0, fmt.Errorf("%w (keystore %s has key check value %s; neither the current key %s nor the new key %s)",
			ErrWrongMaster, path, kcv, KeyCheckValue(oldMaster), KeyCheckValue(newMaster))
	}
	oldA, err := newAEAD(oldMaster)
	if err != nil {
		return 0, err
	}
	newA, err := newAEAD(newMaster)
	if err != nil {
		return 0, err
	}
	out := make(map[Subject][]byte, len(recs))
	for s, w := range recs {
		dk, err := oldA.Open(nil, w[:nonceSize], w[nonceSize:], s[:])
		if err != nil {
			return 0, fmt.Errorf("%w: data key of subject %s does not unwrap; keystore left as it was", keys.ErrKey, s)
		}
		out[s] = wrap(newA, s, dk)
	}
	if err := writeFile(path, KeyCheckValue(newMaster), out); err != nil {
		return 0, err
	}
	return len(out), nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("want a 32-byte key, got %d bytes", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Seal encrypts one PII value of a subject under its data key. The field
// name and the subject are authenticated, so a value cannot be moved to
// another field or subject unnoticed. Output: nonce || ciphertext || tag.
func Seal(dk []byte, s Subject, field, plaintext string) ([]byte, error) {
	a, err := newAEAD(dk)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, nonceSize)
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, err
	}
	return a.Seal(nonce, nonce, []byte(plaintext), aad(s, field)), nil
}

// Open decrypts a value sealed by Seal.
func Open(dk []byte, s Subject, field string, sealed []byte) (string, error) {
	a, err := newAEAD(dk)
	if err != nil {
		return "", err
	}
	if len(sealed) < nonceSize+a.Overhead() {
		return "", fmt.Errorf("vault value of %s.%s is too short", s, field)
	}
	p, err := a.Open(nil, sealed[:nonceSize], sealed[nonceSize:], aad(s, field))
	if err != nil {
		return "", fmt.Errorf("vault value of %s.%s does not decrypt: %w", s, field, err)
	}
	return string(p), nil
}

func aad(s Subject, field string) []byte {
	return append(append(s[:0:0], s[:]...), field...)
}

// Wrapped returns the subject's data key as stored: wrapped under the
// master key with the subject as associated data. Keystores under the
// same master key (customer shards) can move it as is.
func (k *Keystore) Wrapped(s Subject) ([]byte, bool) {
	w, ok := k.wrapped[s]
	return append([]byte(nil), w...), ok
}

// PutWrapped stores a wrapped data key taken from another keystore under
// the same master key, after checking it unwraps here.
func (k *Keystore) PutWrapped(s Subject, w []byte) error {
	if len(w) < nonceSize {
		return fmt.Errorf("%w: wrapped data key of subject %s is too short", keys.ErrKey, s)
	}
	if _, err := k.master.Open(nil, w[:nonceSize], w[nonceSize:], s[:]); err != nil {
		return fmt.Errorf("%w: data key of subject %s does not unwrap under this keystore's master key", keys.ErrKey, s)
	}
	k.wrapped[s] = append([]byte(nil), w...)
	k.dirty = true
	return nil
}
