package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

// assets are the static files, shared and the service's, by name
// ("login.js").
type assets map[string]asset

type asset struct {
	body    []byte
	ctype   string
	etag    string // quoted, from the SHA-256 of body
	version string // the ?v= the pages put in the asset's URL
}

// loadAssets reads static/ of shared and of files (which may have none);
// a name in both is an error.
func loadAssets(files fs.FS) (*assets, error) {
	a := assets{}
	for i, fsys := range []fs.FS{shared, files} {
		entries, err := fs.ReadDir(fsys, "static")
		if i > 0 && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("web: static: %w", err)
		}
		for _, e := range entries {
			if err := a.add(fsys, e); err != nil {
				return nil, err
			}
		}
	}
	return &a, nil
}

func (a assets) add(fsys fs.FS, e fs.DirEntry) error {
	ct, ok := assetTypes[path.Ext(e.Name())]
	if e.IsDir() || !ok {
		return fmt.Errorf("web: static: %s is not a .js, .css or .svg file", e.Name())
	}
	if _, dup := a[e.Name()]; dup {
		return fmt.Errorf("web: static: %s is a shared file", e.Name())
	}
	b, err := fs.ReadFile(fsys, "static/"+e.Name())
	if err != nil {
		return fmt.Errorf("web: static: %w", err)
	}
	sum := sha256.Sum256(b)
	a[e.Name()] = asset{body: b, ctype: ct, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, version: hex.EncodeToString(sum[:8])}
	return nil
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

// Static serves the shared and the service's assets; mount it at
// "/static/" (it also works behind http.StripPrefix). Unknown names are
// 404. A request carrying the current ?v= (as the pages' links do) may be
// cached for a year; any other is revalidated with the ETag. The shared
// assets have the same URL in every page set: where several page sets
// share one mux, mount the Static of the set that has files of its own.
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
