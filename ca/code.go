package ca

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
)

// Enrollment codes look like "K7Q2M9XA3D-4F8GH-2JKMN-P3QRS-T5VWX": an id
// that finds the enrollment, and a secret of 100 random bits that proves it.
// They are written in Crockford's base32, so reading one aloud or typing it
// is forgiving: case does not matter, I and L read as 1, O as 0, and spaces
// and hyphens inside the secret are ignored. Only a hash of the secret is
// stored; because the secret is random and long, a fast hash is enough
// (nobody can search 2^100 candidates), and the attempt limit stops online
// guessing.
const (
	codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	codeIDLen    = 10 // 50 bits: finds the enrollment
	codeSecret   = 20 // 100 bits: proves it
)

// enrollmentCode is a parsed code.
type enrollmentCode struct {
	ID     string
	Secret string
}

func newEnrollmentCode() (enrollmentCode, error) {
	buf := make([]byte, codeIDLen+codeSecret)
	if _, err := rand.Read(buf); err != nil {
		return enrollmentCode{}, fmt.Errorf("ca: enrollment code: %w", err)
	}
	for i, b := range buf {
		buf[i] = codeAlphabet[b&31]
	}
	return enrollmentCode{ID: string(buf[:codeIDLen]), Secret: string(buf[codeIDLen:])}, nil
}

// String formats the code for people: the id, then the secret in groups of 5.
func (c enrollmentCode) String() string {
	var b strings.Builder
	b.WriteString(c.ID)
	for i := 0; i < len(c.Secret); i += 5 {
		b.WriteByte('-')
		b.WriteString(c.Secret[i:min(i+5, len(c.Secret))])
	}
	return b.String()
}

// hash binds the secret to the id, so a hash copied to another enrollment
// row proves nothing.
func (c enrollmentCode) hash() []byte {
	h := sha256.New()
	h.Write([]byte("yagona enrollment code v1\x00"))
	h.Write([]byte(c.ID))
	h.Write([]byte{0})
	h.Write([]byte(c.Secret))
	return h.Sum(nil)
}

func (c enrollmentCode) matches(stored []byte) bool {
	return subtle.ConstantTimeCompare(c.hash(), stored) == 1
}

// parseEnrollmentCode normalizes and splits a code typed by a person.
func parseEnrollmentCode(s string) (enrollmentCode, bool) {
	if len(s) > 100 {
		return enrollmentCode{}, false
	}
	norm := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		switch c {
		case 'I', 'L':
			c = '1'
		case 'O':
			c = '0'
		}
		if strings.IndexByte(codeAlphabet, c) < 0 {
			return enrollmentCode{}, false
		}
		norm = append(norm, c)
	}
	if len(norm) != codeIDLen+codeSecret {
		return enrollmentCode{}, false
	}
	return enrollmentCode{ID: string(norm[:codeIDLen]), Secret: string(norm[codeIDLen:])}, true
}
