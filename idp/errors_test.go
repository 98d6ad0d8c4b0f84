package idp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/yagona/yagona/pkg/cache"
	"github.com/yagona/yagona/pkg/store"
)

// TestAsOAuthUnavailable: a store or cache that is down is a 503
// temporarily_unavailable, anything unexpected a 500, protocol errors as
// they are.
func TestAsOAuthUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("session: %w: %w", cache.ErrUnavailable, errors.New("connection refused")), http.StatusServiceUnavailable, errTemporarilyUnavail},
		{fmt.Errorf("client: %w: %w", store.ErrUnavailable, errors.New("dial tcp")), http.StatusServiceUnavailable, errTemporarilyUnavail},
		{fmt.Errorf("lookup: %w", context.DeadlineExceeded), http.StatusServiceUnavailable, errTemporarilyUnavail},
		{errors.New("a bug"), http.StatusInternalServerError, errServerError},
		{oerr(errInvalidGrant, "no"), http.StatusBadRequest, errInvalidGrant},
		{fmt.Errorf("wrapped: %w", store.ErrNotFound), http.StatusInternalServerError, errServerError},
	} {
		oe := asOAuth(tc.err)
		if oe.Status != tc.status || oe.Code != tc.code {
			t.Errorf("%v: %d %s, want %d %s", tc.err, oe.Status, oe.Code, tc.status, tc.code)
		}
	}
}
