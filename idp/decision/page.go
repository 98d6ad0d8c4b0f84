package decision

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"

	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/web"
)

//go:embed pages/templates/*.html pages/locales/*.json
var pageFiles embed.FS

// publicPage is the public page of a decision: its state and signatures,
// and the result of checking a document against it.
type publicPage struct {
	View           view
	Checked, Match bool
}

// Template is "decision": pages/templates/decision.html.
func (publicPage) Template() string { return "decision" }

// pages is the page set of /d/{id}, on the shared layout. Its files are
// embedded, so an error is a bug that the tests catch at start-up.
var pages = web.Must(newPages(pageFiles))

func newPages(files fs.FS) (*web.Renderer, error) {
	sub, err := fs.Sub(files, "pages")
	if err != nil {
		return nil, err
	}
	var states []string
	for _, s := range []string{store.DecisionPending, store.DecisionFinal, store.DecisionRejected, store.DecisionExpired, store.DecisionWithdrawn} {
		states = append(states, "decision.state."+s)
	}
	return web.New(web.Config{Files: sub, Pages: []web.Page{publicPage{}}, Required: states})
}

// handlePage is the public page of a decision, where anyone can check a
// document against it (POST with the document).
func (s *Service) handlePage(w http.ResponseWriter, r *http.Request) {
	web.SetLang(w, r)
	ctx := r.Context()
	d, err := s.load(ctx, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		pages.Render(w, r, web.ErrorPage{Message: "error.not_found"}, http.StatusNotFound)
		return
	}
	var v view
	if err == nil {
		v, err = s.view(ctx, d)
	}
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "decision page failed", "err", err)
		pages.Render(w, r, web.ErrorPage{Message: "error.server"}, http.StatusServiceUnavailable)
		return
	}
	pg := publicPage{View: v}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, MaxDocument+64<<10)
		f, _, err := r.FormFile("document")
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			// FormFile reads the whole body first: an oversized upload
			// fails here, not while hashing.
			pages.Render(w, r, web.ErrorPage{Message: "error.too_large"}, http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			pages.Render(w, r, web.ErrorPage{Message: "error.bad_request", Detail: "a document file is required"}, http.StatusBadRequest)
			return
		}
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			pages.Render(w, r, web.ErrorPage{Message: "error.too_large"}, http.StatusRequestEntityTooLarge)
			return
		}
		pg.Checked, pg.Match = true, hex.EncodeToString(h.Sum(nil)) == v.DocumentSHA256
	}
	pages.Render(w, r, pg, http.StatusOK)
}
