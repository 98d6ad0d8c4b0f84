package httpjson_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/yagona/yagona/pkg/httpjson"
)

// A handler reads its body strictly and answers a refusal as a problem
// document.
func Example() {
	handler := func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Name string `json:"name"`
		}
		if err := httpjson.Decode(w, r, httpjson.Rules{MaxBytes: 1024}, &in); err != nil {
			httpjson.WriteError(w, err)
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]string{"hello": in.Name})
	}
	for _, body := range []string{`{"name":"Dilnoza"}`, `{"name":"Dilnoza","role":"admin"}`} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/greet", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		handler(w, r)
		fmt.Print(w.Code, " ", w.Header().Get("Content-Type"), " ", w.Body.String())
	}
	// Output:
	// 200 application/json {"hello":"Dilnoza"}
	// 400 application/problem+json {"title":"Bad Request","status":400,"detail":"request body is not the expected JSON: unknown field \"role\"","error":"bad_json","message":"request body is not the expected JSON: unknown field \"role\""}
}
