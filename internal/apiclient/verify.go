package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"

	"github.com/yagona/yagona/pkg/validation"
)

// Verify has the server validate the signature in sigPath, over the
// document in docPath for a detached signature ("" for an attached one),
// and returns the report, whatever its indication.
func (c *Client) Verify(ctx context.Context, docPath, sigPath string) (*validation.Report, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if docPath != "" {
		if err := addFile(mw, "document", docPath); err != nil {
			return nil, err
		}
	}
	if err := addFile(mw, "signature", sigPath); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/signatures/verify", &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	data, err := c.raw(req)
	if err != nil {
		return nil, err
	}
	var rep validation.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

func addFile(mw *multipart.Writer, field, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	w, err := mw.CreateFormFile(field, filepath.Base(path))
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
