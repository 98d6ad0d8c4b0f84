package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/yagona/yagona/idp/web"
)

func ExampleLang() {
	req := httptest.NewRequest(http.MethodGet, "/login?request=r1", nil)
	req.Header.Set("Accept-Language", "ru-RU,ru;q=0.9,en;q=0.8")
	fmt.Println(web.Lang(req))

	req = httptest.NewRequest(http.MethodGet, "/login?request=r1&lang=en", nil)
	req.Header.Set("Accept-Language", "ru-RU,ru;q=0.9,en;q=0.8")
	fmt.Println(web.Lang(req))

	req = httptest.NewRequest(http.MethodGet, "/login", nil)
	req.Header.Set("Accept-Language", "fr")
	fmt.Println(web.Lang(req))
	// Output:
	// ru
	// en
	// uz
}

func ExampleRenderer_Render() {
	pages, err := web.New()
	if err != nil {
		panic(err) // a missing translation: the program cannot start
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", pages.Static())
	page := func(h http.HandlerFunc) http.Handler {
		return web.SecurityHeaders(h, []string{"http://127.0.0.1:8765"})
	}
	mux.Handle("GET /oauth2/authorize", page(func(w http.ResponseWriter, r *http.Request) {
		web.SetLang(w, r)
		pages.Render(w, r, web.ErrorPage{Code: "invalid_request", Message: "error.unknown_client"}, http.StatusBadRequest)
	}))

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/oauth2/authorize?client_id=x&lang=ru", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Language"), w.Header().Get("Cache-Control"), w.Result().Cookies()[0].Value)
	// Output: 400 ru no-store ru
}
