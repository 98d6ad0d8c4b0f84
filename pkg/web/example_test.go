package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing/fstest"

	"github.com/yagona/yagona/pkg/web"
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

// greetingPage is a service's page: its template is
// templates/greeting.html.
type greetingPage struct{ Name string }

func (greetingPage) Template() string { return "greeting" }

// Example builds a service's page set (usually embedded files) on the
// shared layout and serves a page and an error page under the guard.
func Example() {
	files := fstest.MapFS{
		"templates/greeting.html": {Data: []byte(`{{define "title"}}{{t "greeting.title"}}{{end}}
{{define "main"}}<main class="card"><p id="greeting">{{template "fill" (fill "greeting.text" .Page.Name)}}</p></main>{{end}}`)},
		"locales/uz.json": {Data: []byte(`{"greeting.title": "Salom", "greeting.text": "Xush kelibsiz, {name}!"}`)},
		"locales/ru.json": {Data: []byte(`{"greeting.title": "Привет", "greeting.text": "Добро пожаловать, {name}!"}`)},
		"locales/en.json": {Data: []byte(`{"greeting.title": "Hello", "greeting.text": "Welcome, {name}!"}`)},
	}
	pages, err := web.New(web.Config{Files: files, Pages: []web.Page{greetingPage{}}})
	if err != nil {
		panic(err) // a missing translation: the program cannot start
	}
	guard := web.NewGuard(nil)
	mux := http.NewServeMux()
	mux.Handle("GET /static/", pages.Static())
	mux.Handle("GET /hello", guard.Page(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.SetLang(w, r)
		pages.Render(w, r, greetingPage{Name: "Dilnoza"}, http.StatusOK)
	})))
	mux.Handle("GET /gone", guard.Page(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pages.Render(w, r, web.ErrorPage{Message: "error.not_found"}, http.StatusNotFound)
	})))

	for _, target := range []string{"/hello?lang=en", "/hello", "/gone?lang=ru"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		text := regexp.MustCompile(`<p (?:id="greeting"|class="alert" role="alert")>(.*)</p>`).FindStringSubmatch(w.Body.String())
		fmt.Println(w.Code, w.Header().Get("Content-Language"), text[1])
	}
	// Output:
	// 200 en Welcome, <strong>Dilnoza</strong>!
	// 200 uz Xush kelibsiz, <strong>Dilnoza</strong>!
	// 404 ru Такая страница или запись не найдена.
}
