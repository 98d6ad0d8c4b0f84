package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/yagona/yagona/pkg/store"
)

// Open the embedded SQLite database (migrations apply on Open), record a
// person, read them back, and see the sentinels callers branch on.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "store-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "yagona.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	p := store.Person{PINFL: "41111111111111", GivenName: "Akmal", Surname: "Karimov",
		BirthDate: time.Date(1975, 3, 3, 0, 0, 0, 0, time.UTC), CreatedAt: time.Now()}
	if err := s.CreatePerson(ctx, p); err != nil {
		fmt.Println(err)
		return
	}
	got, _ := s.GetPerson(ctx, "41111111111111")
	fmt.Println(got.GivenName, got.Surname, got.BirthDate.Format(time.DateOnly))

	err = s.CreatePerson(ctx, p)
	fmt.Println("twice:", errors.Is(err, store.ErrAlreadyExists))
	_, err = s.GetPerson(ctx, "49999999999999")
	fmt.Println("unknown:", errors.Is(err, store.ErrNotFound))
	// Output:
	// Akmal Karimov 1975-03-03
	// twice: true
	// unknown: true
}
