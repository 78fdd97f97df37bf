package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// benches are the `veille bench NAME` targets; each file registers its own.
var benches = map[string]func(ctx context.Context, args []string) error{}

func registerBench(name string, fn func(ctx context.Context, args []string) error) {
	benches[name] = fn
}

func init() {
	register(&command{
		name:    "bench",
		summary: "measure throughput: bench classify|store|pipeline",
		run: func(ctx context.Context, args []string) error {
			names := make([]string, 0, len(benches))
			for n := range benches {
				names = append(names, n)
			}
			sort.Strings(names)
			if len(args) == 0 {
				return fmt.Errorf("%w: veille bench %s [flags]", errUsage, strings.Join(names, "|"))
			}
			fn, ok := benches[args[0]]
			if !ok {
				return fmt.Errorf("%w: unknown benchmark %q; have %s", errUsage, args[0], strings.Join(names, ", "))
			}
			return fn(ctx, args[1:])
		},
	})
}
