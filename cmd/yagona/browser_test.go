package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/yagona/yagona/internal/agent"
	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/pkg/certfile"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write docs/login-page.png from the browser test")

func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("YAGONA_TEST_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("YAGONA_TEST_BROWSER") != "" {
		t.Fatal("YAGONA_TEST_BROWSER is set but no Chromium is on PATH")
	}
	t.Skip("no Chromium on PATH (Debian package chromium; .ci/run installs it)")
	return ""
}

// TestBrowserLogin: headless Chromium goes from a sample service to the
// login page, the page asks the local agent to sign, and the service gets
// a verified ID token with the person's PINFL and level of assurance.
func TestBrowserLogin(t *testing.T) {
	needOpenSSL(t)
	exe := chromium(t)
	agentLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	agentURL := "http://" + agentLn.Addr().String()
	s := startServer(t, func(c *config.Config) { c.IDP.AgentURL = agentURL })
	dir := t.TempDir()
	s.enrollWithOpenSSL(dir, "31204900012345", "citizen", nil)
	leaf, err := certfile.Read(filepath.Join(dir, "leaf.pem"))
	if err != nil {
		t.Fatal(err)
	}
	issuing, _ := certfile.Read(filepath.Join(dir, "issuing.pem"))
	keyPEM, _ := os.ReadFile(filepath.Join(dir, "key.pem"))
	blk, _ := pem.Decode(keyPEM)
	key, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ag, err := agent.New(agent.Config{Identities: []agent.Identity{{Certificate: leaf[0], Chain: issuing, Key: key}}, Origins: []string{s.https}})
	if err != nil {
		t.Fatal(err)
	}
	actx, stopAgent := context.WithCancel(context.Background())
	defer stopAgent()
	go func() { _ = ag.Serve(actx, agentLn) }()

	// The sample service: a go-oidc relying party.
	rpLn, _ := net.Listen("tcp", "127.0.0.1:0")
	rpURL := "http://" + rpLn.Addr().String()
	secret := s.registerClient("--id", "sample-service", "--name", "Namuna xizmati", "--redirect-uri", rpURL+"/callback",
		"--scope", "openid", "--scope", "profile", "--scope", "pinfl")
	ctx := oidc.ClientContext(context.Background(), s.client)
	provider, err := oidc.NewProvider(ctx, s.https)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: "sample-service", ClientSecret: secret, Endpoint: provider.Endpoint(),
		RedirectURL: rpURL + "/callback", Scopes: []string{"openid", "profile", "pinfl"}}
	verifier := oauth2.GenerateVerifier()
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, conf.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier), oidc.Nonce("browser-nonce")), http.StatusFound)
	})
	mux.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("state") != "browser-state" {
			http.Error(w, "bad state", 400)
			return
		}
		tok, err := conf.Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&oidc.Config{ClientID: "sample-service"}).Verify(ctx, raw)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var cl struct {
			PINFL string `json:"pinfl"`
			ACR   string `json:"acr"`
			Nonce string `json:"nonce"`
		}
		_ = idt.Claims(&cl)
		fmt.Fprintf(w, `<!doctype html><p id="result">pinfl=%s acr=%s nonce=%s</p>`, cl.PINFL, cl.ACR, cl.Nonce)
	})
	rpSrv := &http.Server{Handler: mux}
	go func() { _ = rpSrv.Serve(rpLn) }()
	defer rpSrv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("ignore-certificate-errors", true), chromedp.WindowSize(900, 800), chromedp.Flag("lang", "uz"))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	bctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	defer cancelTimeout()

	err = chromedp.Do(bctx, chromedp.Navigate(rpURL+"/start"), chromedp.WaitEnabled("#sign"))
	var shot []byte
	var result, href string
	var lang chromedp.AttributeResult
	// The browser asks for English; the person switches to Uzbek.
	if err == nil {
		lang, err = chromedp.Run(bctx, chromedp.AttributeValue("html", "lang"))
		if lang.Value != "en" {
			t.Errorf("Accept-Language en-US gave a page in %q", lang.Value)
		}
	}
	if err == nil {
		href, err = chromedp.Run(bctx, chromedp.Evaluate[string]("document.querySelector('a[hreflang=uz]').href"))
	}
	if err == nil {
		err = chromedp.Do(bctx, chromedp.Navigate(href), chromedp.WaitEnabled("#sign"))
	}
	if err == nil {
		lang, err = chromedp.Run(bctx, chromedp.AttributeValue("html", "lang"))
	}
	if err == nil {
		shot, err = chromedp.Run(bctx, chromedp.FullScreenshot(100))
	}
	if err == nil {
		err = chromedp.Do(bctx, chromedp.Click("#sign"), chromedp.WaitVisible("#result"))
	}
	if err == nil {
		result, err = chromedp.Run(bctx, chromedp.Text("#result"))
	}
	if err != nil {
		page, _ := chromedp.Run(bctx, chromedp.Text("body"))
		t.Fatalf("browser: %v; page: %s", err, page)
	}
	if result != "pinfl=31204900012345 acr=substantial nonce=browser-nonce" {
		t.Fatalf("the service got %q", result)
	}
	if lang.Value != "uz" {
		t.Errorf("login page language %q; want uz by default", lang.Value)
	}
	if *updateScreenshot {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "login-page.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.HasPrefix(string(shot), "\x89PNG") {
		t.Errorf("no screenshot")
	}
}
