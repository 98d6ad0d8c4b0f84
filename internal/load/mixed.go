package load

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
)

// DefaultMix is the mixed scenario's weights when Options.Mix is empty:
// mostly the cheap calls a relying party and validators make, a few
// logins and validations.
const DefaultMix = "ocsp=8,introspect=4,refresh=2,login=1,verify=1"

// mixable are the scenarios a mix may name: those whose requests can be
// repeated (an issuance or a code exchange works once per prepared item).
var mixable = map[string]bool{"ocsp": true, "tsa": true, "login": true, "refresh": true, "introspect": true, "verify": true}

// PrepareMixed prepares each scenario of mix ("name=weight,...") and times
// them interleaved: out of every sum-of-weights requests, each scenario
// gets its weight. An error message names its scenario. Targets are the
// -server URLs; worker w's OCSP and TSA requests go to its OCSP target,
// w mod the number of those.
func (c *Client) PrepareMixed(mix string) (Plan, error) {
	if mix == "" {
		mix = DefaultMix
	}
	type part struct {
		name   string
		plan   Plan
		next   atomic.Int64
		weight int
	}
	var parts []*part
	for _, f := range strings.Split(mix, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(f), "=")
		weight, err := strconv.Atoi(w)
		if !ok || err != nil || weight < 1 || weight > 100 || !mixable[name] {
			return Plan{}, fmt.Errorf("mix %q: want name=weight (1..100) with names from ocsp, tsa, login, refresh, introspect, verify", f)
		}
		parts = append(parts, &part{name: name, weight: weight})
	}
	for _, p := range parts {
		var err error
		if p.plan, err = c.Prepare(p.name); err != nil {
			return Plan{}, fmt.Errorf("%s: %w", p.name, err)
		}
	}
	// The schedule interleaves the parts: weights 3 and 1 give a a b a, not
	// a a a b, so short runs see every part.
	var schedule []*part
	for round := range 100 {
		for _, p := range parts {
			if round < p.weight {
				schedule = append(schedule, p)
			}
		}
	}
	closeAll := func() {
		for _, p := range parts {
			if p.plan.Close != nil {
				p.plan.Close()
			}
		}
	}
	return Plan{Targets: c.servers, Close: closeAll, Do: func(w, i int) (int, error) {
		p := schedule[i%len(schedule)]
		status, err := p.plan.Do(w, int(p.next.Add(1))-1)
		if err != nil {
			err = fmt.Errorf("%s: %w", p.name, err)
		}
		return status, err
	}}, nil
}
