package cache

import (
	"context"
	"fmt"
	"sync"
)

// Bus carries broadcast messages between replicas: small notices (say, "the
// status of this certificate changed"), delivered at most once, in no
// promised order, to the subscribers listening when they are published. Nothing durable depends
// on one: a receiver that misses a message must be correct anyway, only
// later. Redis implements it with PUBLISH and SUBSCRIBE; Memory delivers
// within the process.
type Bus interface {
	// Publish sends msg to the current subscribers of channel.
	Publish(ctx context.Context, channel string, msg []byte) error
	// Subscribe calls handle with every message on channel, one at a
	// time, until ctx is done. It returns once the subscription is in
	// place, so a message published after it returns is delivered.
	Subscribe(ctx context.Context, channel string, handle func(msg []byte)) error
}

// bus is Memory's Bus: handlers by channel, called synchronously by
// Publish (with no lock held) in subscription order.
type bus struct {
	mu   sync.Mutex
	subs map[string]map[*subscription]struct{}
}

type subscription struct {
	mu     sync.Mutex // one message at a time, as with Redis
	handle func([]byte)
}

// Publish calls the handlers subscribed to channel with a copy of msg.
func (m *Memory) Publish(_ context.Context, channel string, msg []byte) error {
	if m.closed.Load() {
		return ErrClosed
	}
	m.bus.mu.Lock()
	subs := make([]*subscription, 0, len(m.bus.subs[channel]))
	for s := range m.bus.subs[channel] {
		subs = append(subs, s)
	}
	m.bus.mu.Unlock()
	for _, s := range subs {
		s.mu.Lock()
		s.handle(append([]byte(nil), msg...))
		s.mu.Unlock()
	}
	return nil
}

// Subscribe registers handle for channel until ctx is done.
func (m *Memory) Subscribe(ctx context.Context, channel string, handle func([]byte)) error {
	if m.closed.Load() {
		return ErrClosed
	}
	s := &subscription{handle: handle}
	m.bus.mu.Lock()
	if m.bus.subs == nil {
		m.bus.subs = map[string]map[*subscription]struct{}{}
	}
	if m.bus.subs[channel] == nil {
		m.bus.subs[channel] = map[*subscription]struct{}{}
	}
	m.bus.subs[channel][s] = struct{}{}
	m.bus.mu.Unlock()
	context.AfterFunc(ctx, func() {
		m.bus.mu.Lock()
		delete(m.bus.subs[channel], s)
		m.bus.mu.Unlock()
	})
	return nil
}

// Publish sends msg on the prefixed channel (PUBLISH). On Redis Cluster a
// PUBLISH reaches the subscribers on every node.
func (r *Redis) Publish(ctx context.Context, channel string, msg []byte) error {
	if err := r.client.Publish(ctx, r.key(channel), msg).Err(); err != nil {
		return fmt.Errorf("cache: redis publish %q: %w: %w", channel, ErrUnavailable, err)
	}
	return nil
}

// Subscribe subscribes to the prefixed channel (SUBSCRIBE) and calls handle
// from one goroutine until ctx is done. go-redis reconnects and subscribes
// again after a connection loss; messages published meanwhile are lost, as
// the Bus contract allows.
func (r *Redis) Subscribe(ctx context.Context, channel string, handle func([]byte)) error {
	ps := r.client.Subscribe(ctx, r.key(channel))
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return fmt.Errorf("cache: redis subscribe %q: %w: %w", channel, ErrUnavailable, err)
	}
	ch := ps.Channel()
	go func() {
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				handle([]byte(m.Payload))
			}
		}
	}()
	return nil
}
