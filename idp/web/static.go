package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// assetTypes are the content types of the files static/ may hold; New
// refuses any other kind of file rather than serve it with a guessed type.
var assetTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
}

// assets are the embedded static files by name ("login.js").
type assets map[string]asset

type asset struct {
	body    []byte
	ctype   string
	etag    string // quoted, from the SHA-256 of body
	version string // the ?v= the pages put in the asset's URL
}

func loadAssets(fsys fs.FS) (*assets, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("web: static: %w", err)
	}
	a := assets{}
	for _, e := range entries {
		ct, ok := assetTypes[path.Ext(e.Name())]
		if e.IsDir() || !ok {
			return nil, fmt.Errorf("web: static: %s is not a .js, .css or .svg file", e.Name())
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("web: static: %w", err)
		}
		sum := sha256.Sum256(b)
		v := hex.EncodeToString(sum[:8])
		a[e.Name()] = asset{body: b, ctype: ct, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, version: v}
	}
	return &a, nil
}

// url is the template function "asset": the file's URL, versioned by its
// content so that a new release is fetched at once despite the long cache
// lifetime.
func (a *assets) url(name string) (string, error) {
	f, ok := (*a)[name]
	if !ok {
		return "", fmt.Errorf("web: no static file %q", name)
	}
	return "/static/" + name + "?v=" + f.version, nil
}

// check fails if a template names a static file that does not exist.
func (a *assets) check(t *template.Template) error {
	names, err := constArgs(t, "asset")
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := a.url(n); err != nil {
			return err
		}
	}
	return nil
}

// Static serves the embedded assets; mount it at "/static/" (it also works
// behind http.StripPrefix). Unknown names are 404. A request carrying the
// current ?v= (as the pages' links do) may be cached for a year; any other
// is revalidated with the ETag.
func (r *Renderer) Static() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		name, ok := strings.CutPrefix(req.URL.Path, "/static/")
		if !ok {
			name = strings.TrimPrefix(req.URL.Path, "/")
		}
		f, ok := (*r.assets)[name]
		if !ok {
			http.NotFound(w, req)
			return
		}
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("ETag", f.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		// An SVG opened on its own is a document: let it run nothing.
		h.Set("Content-Security-Policy", "default-src 'none'")
		if req.URL.Query().Get("v") == f.version {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=0, must-revalidate")
		}
		http.ServeContent(w, req, name, time.Time{}, bytes.NewReader(f.body))
	})
}
