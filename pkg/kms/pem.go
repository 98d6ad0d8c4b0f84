package kms

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
)

const (
	pemTypeEncrypted = "ENCRYPTED PRIVATE KEY" // RFC 7468 section 11

	// defaultEncryptIterations is the PBKDF2 iteration count EncryptPEM
	// writes: the OWASP recommendation for PBKDF2-HMAC-SHA256 (2023), and
	// what go.step.sm/crypto/pemutil writes. Decrypting costs about 0.15 s.
	defaultEncryptIterations = 600_000

	// maxIterations bounds the PBKDF2 iteration count DecryptPEM accepts,
	// so that a crafted file cannot pin a CPU for minutes.
	maxIterations = 10_000_000

	maxSaltLen = 1024
)

var (
	oidPBES2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES128CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// encryptIterations is defaultEncryptIterations, lowered by TestMain so that
// tests (under -race especially) stay fast. Nothing else changes it.
var encryptIterations = defaultEncryptIterations

// RFC 5958 section 3 and RFC 8018 appendix A.2 and A.4.
type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int                      `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"`
}

// EncryptPEM encrypts key as an "ENCRYPTED PRIVATE KEY" PEM block: PKCS#8
// (RFC 5958) under PBES2 (RFC 8018) with PBKDF2-HMAC-SHA256 (600,000
// iterations, 16-byte salt) and AES-256-CBC, the format OpenSSL 3 writes and
// reads by default (and go.step.sm/crypto/pemutil writes too). key must be
// one of the types GenerateKey returns, of a supported Algorithm; passphrase
// must not be empty.
func EncryptPEM(key crypto.Signer, passphrase []byte) ([]byte, error) {
	return encryptPEM(key, passphrase, encryptIterations)
}

func encryptPEM(key crypto.Signer, passphrase []byte, iterations int) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, errors.New("kms: encrypt key: empty passphrase")
	}
	if _, err := AlgorithmOf(key.Public()); err != nil {
		return nil, fmt.Errorf("kms: encrypt key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("kms: encrypt key: marshal %T: %w", key, err)
	}
	defer clear(der)
	p := pbes2{prf: oidHMACWithSHA256, iterations: iterations, cipher: oidAES256CBC, keyLen: 32}
	p.salt = make([]byte, 16)
	p.iv = make([]byte, aes.BlockSize)
	if _, err := rand.Read(p.salt); err != nil {
		return nil, fmt.Errorf("kms: encrypt key: %w", err)
	}
	if _, err := rand.Read(p.iv); err != nil {
		return nil, fmt.Errorf("kms: encrypt key: %w", err)
	}
	block, err := p.newCipher(passphrase)
	if err != nil {
		return nil, fmt.Errorf("kms: encrypt key: %w", err)
	}
	pad := aes.BlockSize - len(der)%aes.BlockSize
	p.data = make([]byte, len(der), len(der)+pad)
	copy(p.data, der)
	for range pad {
		p.data = append(p.data, byte(pad))
	}
	cipher.NewCBCEncrypter(block, p.iv).CryptBlocks(p.data, p.data)
	out, err := p.marshal()
	if err != nil {
		return nil, fmt.Errorf("kms: encrypt key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemTypeEncrypted, Bytes: out}), nil
}

// DecryptPEM decrypts the "ENCRYPTED PRIVATE KEY" PEM block in pemBytes
// (other PEM blocks, such as certificates, are skipped). It accepts PBES2
// with PBKDF2 (HMAC-SHA1 or HMAC-SHA256, at most 10,000,000 iterations) and
// AES-128/192/256-CBC, which covers what OpenSSL 1.1 and 3 write with
// "openssl pkcs8 -topk8 -v2 ..." or "openssl genpkey -aes-256-cbc". A wrong
// passphrase, or a corrupted file, yields an error wrapping
// ErrWrongPassphrase. Unencrypted keys and legacy encryptions (PBES1,
// "Proc-Type: 4,ENCRYPTED") are refused.
func DecryptPEM(pemBytes, passphrase []byte) (crypto.Signer, error) {
	key, err := decryptPEM(pemBytes, passphrase, maxIterations)
	if err != nil {
		return nil, fmt.Errorf("kms: decrypt key: %w", err)
	}
	return key, nil
}

// decryptPEM is DecryptPEM with a bound on PBKDF2 iterations, so that the
// fuzz target can keep executions cheap. Its errors have no prefix.
func decryptPEM(pemBytes, passphrase []byte, maxIter int) (crypto.Signer, error) {
	if len(passphrase) == 0 {
		return nil, errors.New("empty passphrase")
	}
	block, err := findEncryptedBlock(pemBytes)
	if err != nil {
		return nil, err
	}
	p, err := parsePBES2(block.Bytes, maxIter)
	if err != nil {
		return nil, err
	}
	der, err := p.decrypt(passphrase)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		// PBES2-CBC has no integrity check: a wrong passphrase passes the
		// padding check about once in 256 tries and yields garbage.
		return nil, ErrWrongPassphrase
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key type %T: %w", parsed, ErrUnsupported)
	}
	if _, err := algorithmOf(signer.Public()); err != nil {
		return nil, err
	}
	return signer, nil
}

// findEncryptedBlock returns the single ENCRYPTED PRIVATE KEY block of data.
func findEncryptedBlock(data []byte) (*pem.Block, error) {
	var found *pem.Block
	unencrypted := false
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch {
		case block.Headers["Proc-Type"] != "":
			return nil, fmt.Errorf("%w: legacy PEM encryption (Proc-Type header); convert with openssl pkcs8 -topk8 -v2 aes-256-cbc", ErrUnsupported)
		case block.Type == pemTypeEncrypted:
			if found != nil {
				return nil, errors.New("more than one encrypted private key")
			}
			found = block
		case block.Type == "PRIVATE KEY" || block.Type == "EC PRIVATE KEY" || block.Type == "RSA PRIVATE KEY":
			unencrypted = true
		}
	}
	switch {
	case found != nil:
		return found, nil
	case unencrypted:
		return nil, errors.New("key is not encrypted; encrypt it with openssl pkcs8 -topk8 -v2 aes-256-cbc")
	default:
		return nil, errors.New("no ENCRYPTED PRIVATE KEY PEM block found")
	}
}

// pbes2 is a parsed PBES2-encrypted PKCS#8 key.
type pbes2 struct {
	salt       []byte
	iterations int
	prf        asn1.ObjectIdentifier // hmacWithSHA1 or hmacWithSHA256
	cipher     asn1.ObjectIdentifier // AES-128/192/256-CBC
	keyLen     int
	iv         []byte
	data       []byte // ciphertext
}

// parsePBES2 parses an EncryptedPrivateKeyInfo, accepting only what we
// support and bounding what could make decryption costly.
func parsePBES2(der []byte, maxIter int) (*pbes2, error) {
	var info encryptedPrivateKeyInfo
	if err := unmarshalAll(der, &info); err != nil {
		return nil, fmt.Errorf("malformed encrypted private key: %w", err)
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("%w: encryption scheme %v (only PBES2 is supported; convert with openssl pkcs8 -topk8 -v2 aes-256-cbc)", ErrUnsupported, info.Algorithm.Algorithm)
	}
	var params pbes2Params
	if err := unmarshalAll(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("malformed PBES2 parameters: %w", err)
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("%w: key derivation function %v (only PBKDF2 is supported)", ErrUnsupported, params.KeyDerivationFunc.Algorithm)
	}
	var kdf pbkdf2Params
	if err := unmarshalAll(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		return nil, fmt.Errorf("malformed PBKDF2 parameters: %w", err)
	}
	p := &pbes2{salt: kdf.Salt, iterations: kdf.IterationCount, prf: kdf.PRF.Algorithm, cipher: params.EncryptionScheme.Algorithm, data: info.EncryptedData}
	if len(p.salt) == 0 || len(p.salt) > maxSaltLen {
		return nil, fmt.Errorf("PBKDF2 salt of %d bytes is out of range", len(p.salt))
	}
	if p.iterations < 1 || p.iterations > maxIter {
		return nil, fmt.Errorf("PBKDF2 iteration count %d is out of range [1, %d]", p.iterations, maxIter)
	}
	switch {
	case len(p.prf) == 0: // absent: the default, hmacWithSHA1
		p.prf = oidHMACWithSHA1
	case p.prf.Equal(oidHMACWithSHA1), p.prf.Equal(oidHMACWithSHA256):
	default:
		return nil, fmt.Errorf("%w: PBKDF2 pseudo-random function %v (HMAC-SHA1 and HMAC-SHA256 are supported)", ErrUnsupported, p.prf)
	}
	switch {
	case p.cipher.Equal(oidAES128CBC):
		p.keyLen = 16
	case p.cipher.Equal(oidAES192CBC):
		p.keyLen = 24
	case p.cipher.Equal(oidAES256CBC):
		p.keyLen = 32
	default:
		return nil, fmt.Errorf("%w: cipher %v (AES-128/192/256-CBC are supported)", ErrUnsupported, p.cipher)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != p.keyLen {
		return nil, fmt.Errorf("PBKDF2 key length %d does not match the cipher", kdf.KeyLength)
	}
	if err := unmarshalAll(params.EncryptionScheme.Parameters.FullBytes, &p.iv); err != nil || len(p.iv) != aes.BlockSize {
		return nil, errors.New("malformed AES-CBC parameters: want a 16-byte IV")
	}
	if n := len(p.data); n == 0 || n%aes.BlockSize != 0 {
		return nil, ErrWrongPassphrase // truncated ciphertext
	}
	return p, nil
}

// marshal encodes p as an EncryptedPrivateKeyInfo, the way OpenSSL does:
// explicit PRF with NULL parameters, no key length.
func (p *pbes2) marshal() ([]byte, error) {
	kdfParams, err := asn1.Marshal(pbkdf2Params{
		Salt:           p.salt,
		IterationCount: p.iterations,
		PRF:            pkix.AlgorithmIdentifier{Algorithm: p.prf, Parameters: asn1.NullRawValue},
	})
	if err != nil {
		return nil, err
	}
	iv, err := asn1.Marshal(p.iv)
	if err != nil {
		return nil, err
	}
	params, err := asn1.Marshal(pbes2Params{
		KeyDerivationFunc: pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfParams}},
		EncryptionScheme:  pkix.AlgorithmIdentifier{Algorithm: p.cipher, Parameters: asn1.RawValue{FullBytes: iv}},
	})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(encryptedPrivateKeyInfo{
		Algorithm:     pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}},
		EncryptedData: p.data,
	})
}

// newCipher derives the key from passphrase with PBKDF2 (RFC 8018
// section 5.2) and returns the AES block cipher.
func (p *pbes2) newCipher(passphrase []byte) (cipher.Block, error) {
	h := sha1.New
	if p.prf.Equal(oidHMACWithSHA256) {
		h = sha256.New
	}
	key, err := pbkdf2.Key(h, string(passphrase), p.salt, p.iterations, p.keyLen)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	return aes.NewCipher(key)
}

// decrypt returns the plaintext PKCS#8 DER.
func (p *pbes2) decrypt(passphrase []byte) ([]byte, error) {
	block, err := p.newCipher(passphrase)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(p.data))
	cipher.NewCBCDecrypter(block, p.iv).CryptBlocks(out, p.data)
	// PKCS#7 padding (RFC 8018 section 6.1.1): 1 to 16 bytes of value n.
	n := int(out[len(out)-1])
	if n == 0 || n > aes.BlockSize {
		clear(out)
		return nil, ErrWrongPassphrase
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			clear(out)
			return nil, ErrWrongPassphrase
		}
	}
	return out[:len(out)-n], nil
}

// unmarshalAll is asn1.Unmarshal that also refuses trailing bytes.
func unmarshalAll(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("trailing data")
	}
	return nil
}

// NewPassphrase returns a random passphrase: 32 bytes from crypto/rand,
// base64url-encoded without padding (43 ASCII characters), for development
// setups that generate their own keys.
func NewPassphrase() ([]byte, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("kms: new passphrase: %w", err)
	}
	defer clear(raw)
	out := make([]byte, base64.RawURLEncoding.EncodedLen(len(raw)))
	base64.RawURLEncoding.Encode(out, raw)
	return out, nil
}
