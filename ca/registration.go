package ca

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/yagona/yagona/pkg/store"
)

// PersonInput is what a registration officer records about a person.
type PersonInput struct {
	PINFL      string
	GivenName  string
	Surname    string
	Patronymic string
	BirthDate  string // YYYY-MM-DD
}

// RegisterPerson validates and records a person.
func (a *Authority) RegisterPerson(ctx context.Context, actor Actor, in PersonInput) (store.Person, error) {
	if !ValidPINFL(in.PINFL) {
		return store.Person{}, invalid("invalid_pinfl", "pinfl must be exactly 14 digits")
	}
	var errs []error
	for _, f := range []struct {
		name, v  string
		required bool
	}{{"given_name", in.GivenName, true}, {"surname", in.Surname, true}, {"patronymic", in.Patronymic, false}} {
		if err := checkName(f.name, f.v, f.required); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return store.Person{}, errs[0]
	}
	if n := utf8.RuneCountInString(in.GivenName) + 1 + utf8.RuneCountInString(in.Surname); n > maxNameLen {
		return store.Person{}, invalid(errCodeInvalidName, "given name and surname together must fit in %d characters", maxNameLen)
	}
	birth, err := time.Parse(time.DateOnly, in.BirthDate)
	now := a.now()
	if err != nil || birth.After(now) || birth.Year() < 1900 {
		return store.Person{}, invalid("invalid_birth_date", "birth_date must be a past date written YYYY-MM-DD")
	}
	p := store.Person{PINFL: in.PINFL, GivenName: in.GivenName, Surname: in.Surname,
		Patronymic: in.Patronymic, BirthDate: birth, CreatedAt: now}
	if err := a.st.CreatePerson(ctx, p); err != nil {
		return store.Person{}, storeErr(err, "person")
	}
	a.audit(ctx, actor, "person.create", p.PINFL, "")
	return p, nil
}

// Person returns a registered person.
func (a *Authority) Person(ctx context.Context, pinfl string) (store.Person, error) {
	if !ValidPINFL(pinfl) {
		return store.Person{}, invalid("invalid_pinfl", "pinfl must be exactly 14 digits")
	}
	p, err := a.st.GetPerson(ctx, pinfl)
	if err != nil {
		return store.Person{}, storeErr(err, "person")
	}
	return p, nil
}

// RegisterOrganization records an organization or renames it.
func (a *Authority) RegisterOrganization(ctx context.Context, actor Actor, tin, name string) (store.Organization, error) {
	if !ValidTIN(tin) {
		return store.Organization{}, invalid("invalid_tin", "tin must be exactly 9 digits")
	}
	if err := checkName("name", name, true); err != nil {
		return store.Organization{}, err
	}
	o := store.Organization{TIN: tin, Name: name, CreatedAt: a.now()}
	if err := a.st.PutOrganization(ctx, o); err != nil {
		return store.Organization{}, storeErr(err, "organization")
	}
	a.audit(ctx, actor, "organization.put", tin, "")
	return o, nil
}

// EnrollmentInput asks for an enrollment code.
type EnrollmentInput struct {
	PINFL   string
	Profile string
	TIN     string        // for profiles with an organization
	Title   string        // for profiles with a title
	TTL     time.Duration // zero means the configured default
}

// EnrollmentCode is a new enrollment and its one-time code. Code is shown
// once and never stored.
type EnrollmentCode struct {
	ID        string
	Code      string
	Profile   string
	PINFL     string
	ExpiresAt time.Time
}

// CreateEnrollment creates an enrollment for a registered person.
func (a *Authority) CreateEnrollment(ctx context.Context, actor Actor, in EnrollmentInput) (EnrollmentCode, error) {
	prof, ok := a.cfg.Profiles[in.Profile]
	if !ok || !prof.Enrollable() {
		return EnrollmentCode{}, invalid("unknown_profile", "profile %q does not exist or is not for people", in.Profile)
	}
	if !ValidPINFL(in.PINFL) {
		return EnrollmentCode{}, invalid("invalid_pinfl", "pinfl must be exactly 14 digits")
	}
	if err := a.checkOrgFields(ctx, prof, in.TIN, in.Title); err != nil {
		return EnrollmentCode{}, err
	}
	ttl := in.TTL
	if ttl == 0 {
		ttl = a.cfg.EnrollmentTTL
	}
	if ttl < time.Minute || ttl > 90*24*time.Hour {
		return EnrollmentCode{}, invalid("bad_request", "ttl must be between 1 minute and 90 days")
	}
	now := a.now()
	for range 3 { // an id collision (50 bits) is rare; retry it
		code, err := newEnrollmentCode()
		if err != nil {
			return EnrollmentCode{}, internal("enrollment code", err)
		}
		e := store.Enrollment{ID: code.ID, CodeHash: code.hash(), PINFL: in.PINFL, Profile: prof.Name,
			TIN: in.TIN, Title: in.Title, MaxAttempts: a.cfg.MaxAttempts, ExpiresAt: now.Add(ttl), CreatedAt: now}
		err = a.st.CreateEnrollment(ctx, e)
		if errors.Is(err, store.ErrAlreadyExists) {
			continue
		}
		if err != nil {
			return EnrollmentCode{}, storeErr(err, "person")
		}
		a.audit(ctx, actor, "enrollment.create", in.PINFL, fmt.Sprintf(`{"enrollment":%q,"profile":%q}`, e.ID, e.Profile))
		return EnrollmentCode{ID: e.ID, Code: code.String(), Profile: e.Profile, PINFL: e.PINFL, ExpiresAt: e.ExpiresAt}, nil
	}
	return EnrollmentCode{}, internal("enrollment id collisions", nil)
}

func (a *Authority) checkOrgFields(ctx context.Context, prof Profile, tin, title string) error {
	if !prof.Organization {
		if tin != "" || title != "" {
			return invalid("bad_request", "profile %s takes no organization or title", prof.Name)
		}
		return nil
	}
	if !ValidTIN(tin) {
		return invalid("invalid_tin", "profile %s needs the organization's tin (9 digits)", prof.Name)
	}
	if _, err := a.st.GetOrganization(ctx, tin); err != nil {
		return storeErr(err, "organization")
	}
	if !prof.Title {
		if title != "" {
			return invalid("bad_request", "profile %s takes no title", prof.Name)
		}
		return nil
	}
	return checkName("title", title, true)
}
