package statement

import (
	"bytes"
	"unicode/utf8"
)

// prefixes are the first words of every login statement version, in
// lower case: version 2 and later ("Yagona login statement v2") and the
// retired version 1 ("yagona-login-v1").
var prefixes = [][]byte{[]byte("yagona login statement"), []byte("yagona-login-")}

// maxLead is how much leading space and byte-order marks IsLoginStatement
// skips.
const maxLead = 64

// IsLoginStatement reports whether content is, or starts like, a login
// statement of any version: after at most a few leading spaces, line
// breaks and byte-order marks, its first words are a statement's, in any
// letter case. It looks at the start only, so a statement that was
// truncated or altered further on is still recognised: signing paths
// refuse such content as a document, and the validator refuses to call
// its signature a document signature. It is cheap (no allocation).
func IsLoginStatement(content []byte) bool {
	for i := 0; i < maxLead && len(content) > 0; i++ {
		r, n := utf8.DecodeRune(content)
		if r != ' ' && r != '\t' && r != '\r' && r != '\n' && r != '\uFEFF' {
			break
		}
		content = content[n:]
	}
	for _, p := range prefixes {
		if len(content) >= len(p) && bytes.EqualFold(content[:len(p)], p) {
			return true
		}
	}
	return false
}
