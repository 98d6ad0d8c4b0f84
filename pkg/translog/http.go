package translog

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/store"
)

// InclusionBundle is what a verifier needs to prove an entry offline: the
// leaf, its index, the proof, and the signed checkpoint it is proven
// against.
type InclusionBundle struct {
	Kind       string           `json:"kind"`
	Ref        string           `json:"ref"`
	Index      int64            `json:"index"`
	Leaf       []byte           `json:"leaf"` // LeafData: kind, newline, the recorded bytes
	Proof      tlog.RecordProof `json:"proof"`
	Checkpoint string           `json:"checkpoint"`
}

// ConsistencyBundle proves that the tree of size From is a prefix of the
// tree of size To.
type ConsistencyBundle struct {
	From  int64          `json:"from"`
	To    int64          `json:"to"`
	Proof tlog.TreeProof `json:"proof"`
}

// Handler serves the log's public read API (mount under /log/):
//
//	GET /log/checkpoint                  the latest signed checkpoint (text)
//	GET /log/key                         the checkpoint verifier key (text)
//	GET /log/entries/{index}             one entry (JSON)
//	GET /log/proof/{kind}/{ref}[?size=N] an InclusionBundle against the
//	                                     latest checkpoint (or the one of size N)
//	GET /log/consistency?from=A&to=B     a ConsistencyBundle
func (l *Log) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /log/checkpoint", func(w http.ResponseWriter, r *http.Request) {
		c, err := l.st.LatestCheckpoint(r.Context())
		if err != nil {
			fail(w, err)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(c.Note)
	})
	mux.HandleFunc("GET /log/key", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(l.vkey + "\n"))
	})
	mux.HandleFunc("GET /log/entries/{index}", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.ParseInt(r.PathValue("index"), 10, 64)
		if err != nil || i < 0 {
			httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusBadRequest, "bad_index", "the index must be a whole number, 0 or more"))
			return
		}
		e, err := l.st.GetLogEntry(r.Context(), i)
		if err != nil {
			fail(w, err)
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"index": e.Index, "kind": e.Kind, "ref": e.Ref, "data": e.Data, "created_at": e.CreatedAt.Format(time.RFC3339)})
	})
	mux.HandleFunc("GET /log/proof/{kind}/{ref}", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		e, err := l.st.FindLogEntry(ctx, r.PathValue("kind"), r.PathValue("ref"))
		if err != nil {
			fail(w, err)
			return
		}
		var cp store.Checkpoint
		if s := r.URL.Query().Get("size"); s != "" {
			n, perr := strconv.ParseInt(s, 10, 64)
			if perr != nil || n < 1 {
				httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusBadRequest, "bad_size", "size must be a whole number, 1 or more"))
				return
			}
			cp, err = l.st.GetCheckpoint(ctx, n)
		} else {
			cp, err = l.st.LatestCheckpoint(ctx)
		}
		if err != nil {
			fail(w, err)
			return
		}
		if e.Index >= cp.Size {
			httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusConflict, "not_yet_in_checkpoint", "the entry is newer than the checkpoint; try again after the next one"))
			return
		}
		proof, err := l.InclusionProof(ctx, e.Index, cp.Size)
		if err != nil {
			fail(w, err)
			return
		}
		httpjson.Write(w, http.StatusOK, InclusionBundle{Kind: e.Kind, Ref: e.Ref, Index: e.Index, Leaf: LeafData(e.Kind, e.Data), Proof: proof, Checkpoint: string(cp.Note)})
	})
	mux.HandleFunc("GET /log/consistency", func(w http.ResponseWriter, r *http.Request) {
		from, err1 := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
		to, err2 := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
		size, err := l.st.LogSize(r.Context())
		if err != nil {
			fail(w, err)
			return
		}
		if err1 != nil || err2 != nil || from < 1 || from > to || to > size {
			httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusBadRequest, "bad_range", "need 1 <= from <= to <= the log size"))
			return
		}
		proof, err := l.ConsistencyProof(r.Context(), from, to)
		if err != nil {
			fail(w, err)
			return
		}
		httpjson.Write(w, http.StatusOK, ConsistencyBundle{From: from, To: to, Proof: proof})
	})
	return mux
}

// fail answers a store error as a problem document: not found, or
// unavailable.
func fail(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNotFound) {
		httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusNotFound, "not_found", "no such entry or checkpoint"))
		return
	}
	httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusServiceUnavailable, "unavailable", "try again later"))
}
