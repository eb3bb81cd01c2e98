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
//
// A keystore is bound to one warehouse: its header carries the warehouse
// id (ops.meta), so a keystore restored into the wrong warehouse, or
// copied from another one under the same master key, is refused before
// anything is written, instead of leaving every vault value undecryptable.
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
	magic = "PCKS"
	// version 1: magic, version, key check value, count. Version 2 adds
	// the warehouse id after the key check value.
	version     = 2
	kcvSize     = 8
	idSize      = 16
	nonceSize   = 12
	wrappedLen  = nonceSize + 32 + 16 // nonce, data key, GCM tag
	recordLen   = SubjectSize + wrappedLen
	headerLenV1 = len(magic) + 1 + kcvSize + 8
	headerLen   = len(magic) + 1 + kcvSize + idSize + 8
)

// WarehouseIDSize is the length in bytes of a warehouse id.
const WarehouseIDSize = idSize

// NewWarehouseID returns a fresh random warehouse id, as hex.
func NewWarehouseID() string { return hex.EncodeToString(keys.Random(idSize)) }

// KeyCheckValue identifies a master key without revealing it: the first
// bytes of HMAC-SHA256(key, "parcours key check"). Stored in the keystore
// header, it tells a wrong master key from a damaged file.
func KeyCheckValue(master []byte) string {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("parcours key check"))
	return hex.EncodeToString(m.Sum(nil)[:kcvSize])
}

// Keystore is the set of wrapped data keys, loaded in memory: the file's
// records as read, and the changes made since.
type Keystore struct {
	path        string
	master      cipher.AEAD
	kcv         string
	warehouseID string
	base        keyTable           // the file's records
	added       map[Subject][]byte // minted or put since it was read
	gone        map[Subject]bool   // subjects of base destroyed since
	dirty       bool
}

// keyTable is a keystore file's records (subject, wrapped key), sorted by
// subject, in the buffer the file was read into. Lookups are binary
// searches: opening a keystore is its read and checksum, not a map of a
// million keys (1.5 s at a million customers, paid by every job that
// opens the vault).
type keyTable []byte

func (t keyTable) len() int { return len(t) / recordLen }

func (t keyTable) subject(i int) []byte { return t[i*recordLen : i*recordLen+SubjectSize] }

// wrappedAt is record i's wrapped key, capped so that nothing can append
// over the next record.
func (t keyTable) wrappedAt(i int) []byte {
	return t[i*recordLen+SubjectSize : (i+1)*recordLen : (i+1)*recordLen]
}

func (t keyTable) find(s Subject) (int, bool) {
	n := t.len()
	i := sort.Search(n, func(i int) bool { return bytes.Compare(t.subject(i), s[:]) >= 0 })
	return i, i < n && bytes.Equal(t.subject(i), s[:])
}

// sorted reports whether the subjects strictly increase, as writeFile
// writes them.
func (t keyTable) sorted() bool {
	for i := 1; i < t.len(); i++ {
		if bytes.Compare(t.subject(i-1), t.subject(i)) >= 0 {
			return false
		}
	}
	return true
}

// tableOf lays out records as a keyTable.
func tableOf(recs map[Subject][]byte) keyTable {
	subjects := make([]Subject, 0, len(recs))
	for s := range recs {
		subjects = append(subjects, s)
	}
	sort.Slice(subjects, func(i, j int) bool { return bytes.Compare(subjects[i][:], subjects[j][:]) < 0 })
	t := make(keyTable, 0, len(recs)*recordLen)
	for _, s := range subjects {
		t = append(append(t, s[:]...), recs[s]...)
	}
	return t
}

// Header is what a keystore file says about itself, read without the
// master key.
type Header struct {
	KeyCheckValue string
	// WarehouseID is the warehouse the keystore belongs to ("" for a
	// version 1 file, written before keystores were bound).
	WarehouseID string
	Keys        int
}

// ErrMissing is a keystore file that does not exist where one must. It
// wraps keys.ErrKey (exit 2): a new empty keystore would silently make
// every vault value unreadable.
var ErrMissing = fmt.Errorf("%w: keystore missing", keys.ErrKey)

// ErrWrongMaster is returned when the keystore was written under another
// master key. It wraps keys.ErrKey (a configuration error, exit 2).
var ErrWrongMaster = fmt.Errorf("%w: master key does not match the keystore", keys.ErrKey)

// OpenKeystore reads the keystore at path, which must be wrapped under
// master. A missing file is ErrMissing: keystores are created with their
// warehouse (CreateKeystore), never on the fly.
func OpenKeystore(path string, master []byte) (*Keystore, error) {
	aead, err := newAEAD(master)
	if err != nil {
		return nil, fmt.Errorf("%w: master key: %v", keys.ErrKey, err)
	}
	h, recs, err := readFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, missing(path)
	}
	if err != nil {
		return nil, err
	}
	kcv := KeyCheckValue(master)
	if h.KeyCheckValue != kcv {
		return nil, fmt.Errorf("%w (keystore %s was written under key check value %s, this key is %s)", ErrWrongMaster, path, h.KeyCheckValue, kcv)
	}
	return &Keystore{path: path, master: aead, kcv: kcv, warehouseID: h.WarehouseID, base: recs,
		added: map[Subject][]byte{}, gone: map[Subject]bool{}}, nil
}

func missing(path string) error {
	return fmt.Errorf("%w: %s does not exist; restore it from backup (without it no vault value can be decrypted)", ErrMissing, path)
}

// CreateKeystore writes an empty keystore bound to a warehouse at path,
// wrapped under master. It refuses to replace an existing file.
func CreateKeystore(path string, master []byte, warehouseID string) error {
	if _, err := newAEAD(master); err != nil {
		return fmt.Errorf("%w: master key: %v", keys.ErrKey, err)
	}
	if err := checkID(warehouseID); err != nil {
		return err
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: keystore %s already exists", keys.ErrKey, path)
	}
	return writeFile(path, Header{KeyCheckValue: KeyCheckValue(master), WarehouseID: warehouseID}, nil)
}

// Bind writes the warehouse id into a version 1 keystore (made before
// keystores were bound), keeping every key as it is. A keystore already
// bound to warehouseID is left alone; one bound to another is refused.
func Bind(path, warehouseID string) error {
	if err := checkID(warehouseID); err != nil {
		return err
	}
	h, recs, err := readFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return missing(path)
	}
	if err != nil {
		return err
	}
	switch h.WarehouseID {
	case warehouseID:
		return nil
	case "":
		h.WarehouseID = warehouseID
		return writeFile(path, h, recs)
	}
	return fmt.Errorf("%w: keystore %s belongs to warehouse %s, not %s", keys.ErrKey, path, h.WarehouseID, warehouseID)
}

func checkID(id string) error {
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != idSize {
		return fmt.Errorf("warehouse id %q: want %d hex bytes", id, idSize)
	}
	return nil
}

// ReadHeader reads the header of the keystore at path without the master
// key. A missing file is an error satisfying errors.Is(err, os.ErrNotExist).
func ReadHeader(path string) (Header, error) {
	h, _, err := readFile(path)
	return h, err
}

// WarehouseID is the warehouse this keystore is bound to ("" for an
// unbound version 1 file).
func (k *Keystore) WarehouseID() string { return k.warehouseID }

func readFile(path string) (Header, keyTable, error) {
	var h Header
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return h, nil, err
		}
		return h, nil, fmt.Errorf("%w: keystore %s: %v", keys.ErrKey, path, err)
	}
	bad := func(why string) error {
		return fmt.Errorf("%w: keystore %s is damaged (%s); restore it from backup", keys.ErrKey, path, why)
	}
	if len(b) < headerLenV1 || string(b[:4]) != magic {
		return h, nil, bad("not a parcours keystore")
	}
	hl := headerLen
	switch b[4] {
	case 1:
		hl = headerLenV1
	case version:
		if len(b) < headerLen {
			return h, nil, bad("truncated")
		}
		if id := b[5+kcvSize : 5+kcvSize+idSize]; !bytes.Equal(id, make([]byte, idSize)) {
			h.WarehouseID = hex.EncodeToString(id)
		}
	default:
		return h, nil, bad(fmt.Sprintf("version %d", b[4]))
	}
	h.KeyCheckValue = hex.EncodeToString(b[5 : 5+kcvSize])
	n := binary.BigEndian.Uint64(b[hl-8 : hl])
	body := b[hl:]
	if n > uint64(len(body))/recordLen || uint64(len(body)) != n*recordLen+sha256.Size {
		return h, nil, bad("truncated")
	}
	sum := sha256.Sum256(b[:len(b)-sha256.Size])
	if !bytes.Equal(sum[:], body[len(body)-sha256.Size:]) {
		return h, nil, bad("checksum mismatch")
	}
	recs := keyTable(body[:n*recordLen])
	if !recs.sorted() {
		// Every keystore is written sorted; should one not be, a map puts
		// its records in order (the last of a repeated subject wins).
		m := make(map[Subject][]byte, n)
		for i := 0; i < recs.len(); i++ {
			m[Subject(recs.subject(i))] = recs.wrappedAt(i)
		}
		recs = tableOf(m)
	}
	h.Keys = recs.len()
	return h, recs, nil
}

// Len is the number of data keys held.
func (k *Keystore) Len() int {
	n := k.base.len() - len(k.gone)
	for s := range k.added {
		if !k.inBase(s) {
			n++
		}
	}
	return n
}

// inBase reports whether the file's records still hold s.
func (k *Keystore) inBase(s Subject) bool {
	_, ok := k.base.find(s)
	return ok && !k.gone[s]
}

// lookup is the subject's wrapped key as the keystore holds it now.
func (k *Keystore) lookup(s Subject) ([]byte, bool) {
	if w, ok := k.added[s]; ok {
		return w, true
	}
	if k.gone[s] {
		return nil, false
	}
	if i, ok := k.base.find(s); ok {
		return k.base.wrappedAt(i), true
	}
	return nil, false
}

// Has reports whether the subject has a data key.
func (k *Keystore) Has(s Subject) bool { _, ok := k.lookup(s); return ok }

// Subjects lists the subjects holding a data key, sorted.
func (k *Keystore) Subjects() []Subject {
	out := make([]Subject, 0, k.Len())
	k.each(func(s Subject, _ []byte) { out = append(out, s) })
	return out
}

// each calls f with every subject and its wrapped key, in subject order:
// the file's records merged with the changes.
func (k *Keystore) each(f func(Subject, []byte)) {
	added := make([]Subject, 0, len(k.added))
	for s := range k.added {
		added = append(added, s)
	}
	sort.Slice(added, func(i, j int) bool { return bytes.Compare(added[i][:], added[j][:]) < 0 })
	j := 0
	for i := 0; i < k.base.len(); i++ {
		s := Subject(k.base.subject(i))
		for j < len(added) && bytes.Compare(added[j][:], s[:]) < 0 {
			f(added[j], k.added[added[j]])
			j++
		}
		if j < len(added) && added[j] == s {
			continue // replaced: written when the merge reaches it
		}
		if !k.gone[s] {
			f(s, k.base.wrappedAt(i))
		}
	}
	for ; j < len(added); j++ {
		f(added[j], k.added[added[j]])
	}
}

// DataKey returns the subject's data key, minting one when create is true
// and the subject has none. ok is false when there is none (destroyed or
// never minted).
func (k *Keystore) DataKey(s Subject, create bool) (dk []byte, ok bool, err error) {
	if w, found := k.lookup(s); found {
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
	k.added[s] = wrap(k.master, s, dk)
	k.dirty = true
	return dk, true, nil
}

// Destroy deletes the subject's data key: once saved, every value sealed
// under it is unreadable everywhere.
func (k *Keystore) Destroy(s Subject) bool {
	if !k.Has(s) {
		return false
	}
	delete(k.added, s)
	if _, ok := k.base.find(s); ok {
		k.gone[s] = true
	}
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
	recs := make(keyTable, 0, k.Len()*recordLen)
	k.each(func(s Subject, w []byte) { recs = append(append(recs, s[:]...), w...) })
	if err := writeFile(k.path, Header{KeyCheckValue: k.kcv, WarehouseID: k.warehouseID}, recs); err != nil {
		return err
	}
	k.dirty = false
	return nil
}

// writeFile writes a keystore whose records are recs, sorted by subject.
func writeFile(path string, h Header, recs keyTable) error {
	var buf bytes.Buffer
	buf.Grow(headerLen + len(recs) + sha256.Size)
	buf.WriteString(magic)
	buf.WriteByte(version)
	kb, _ := hex.DecodeString(h.KeyCheckValue)
	buf.Write(kb)
	id := make([]byte, idSize)
	if h.WarehouseID != "" {
		id, _ = hex.DecodeString(h.WarehouseID)
	}
	buf.Write(id)
	_ = binary.Write(&buf, binary.BigEndian, uint64(recs.len()))
	buf.Write(recs)
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
	h, recs, err := readFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, missing(path)
	}
	if err != nil {
		return 0, err
	}
	kcv := h.KeyCheckValue
	switch kcv {
	case KeyCheckValue(newMaster):
		return recs.len(), nil
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
	out := make(keyTable, 0, len(recs))
	for i := 0; i < recs.len(); i++ {
		s, w := Subject(recs.subject(i)), recs.wrappedAt(i)
		dk, err := oldA.Open(nil, w[:nonceSize], w[nonceSize:], s[:])
		if err != nil {
			return 0, fmt.Errorf("%w: data key of subject %s does not unwrap; keystore left as it was", keys.ErrKey, s)
		}
		out = append(append(out, s[:]...), wrap(newA, s, dk)...)
	}
	if err := writeFile(path, Header{KeyCheckValue: KeyCheckValue(newMaster), WarehouseID: h.WarehouseID}, out); err != nil {
		return 0, err
	}
	return out.len(), nil
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
	w, ok := k.lookup(s)
	return append([]byte(nil), w...), ok
}

// PutWrapped stores a wrapped data key taken from another keystore under
// the same master key, after checking it unwraps here.
func (k *Keystore) PutWrapped(s Subject, w []byte) error {
	if len(w) != wrappedLen {
		return fmt.Errorf("%w: wrapped data key of subject %s is %d bytes, want %d", keys.ErrKey, s, len(w), wrappedLen)
	}
	if _, err := k.master.Open(nil, w[:nonceSize], w[nonceSize:], s[:]); err != nil {
		return fmt.Errorf("%w: data key of subject %s does not unwrap under this keystore's master key", keys.ErrKey, s)
	}
	k.added[s] = append([]byte(nil), w...)
	k.dirty = true
	return nil
}
