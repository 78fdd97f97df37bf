package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/veille-project/veille/classifiers/catalog"
)

func init() {
	register(&command{
		name:    "catalog",
		summary: "catalog lint [--catalog DIR]: terms that do nothing; catalog fmt FILE...: one term per line",
		run:     runCatalog,
	})
}

const catalogUsage = `veille catalog lint [--catalog DIR]   list terms given twice or already matched by a wildcard
veille catalog fmt FILE.yaml...        rewrite files one term per line, dropping such terms`

func runCatalog(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, catalogUsage)
	}
	switch args[0] {
	case "lint":
		fs := newFlags("catalog lint")
		dir := fs.String("catalog", "", "catalog directory layered over the embedded catalog")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		cat := catalog.Default()
		if *dir != "" {
			var err error
			if cat, err = catalog.LoadDir(*dir); err != nil {
				return err
			}
		}
		findings := cat.Lint()
		for _, f := range findings {
			fmt.Println(f)
		}
		if len(findings) > 0 {
			return fmt.Errorf("%d finding(s): `veille catalog fmt FILE` drops repeated and covered terms", len(findings))
		}
		fmt.Println("catalog: nothing to report")
		return nil
	case "fmt":
		if len(args) < 2 {
			return fmt.Errorf("%w: %s", errUsage, catalogUsage)
		}
		var errs []error
		for _, p := range args[1:] {
			b, err := os.ReadFile(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("catalog fmt: %w", err))
				continue
			}
			out, err := catalog.Format(b)
			if err != nil {
				errs = append(errs, fmt.Errorf("catalog fmt: %s: %w", p, err))
				continue
			}
			if _, err := catalog.Parse(p, out); err != nil {
				errs = append(errs, fmt.Errorf("catalog fmt: %s: the result does not parse: %w", p, err))
				continue
			}
			if err := os.WriteFile(p, out, 0o644); err != nil {
				errs = append(errs, fmt.Errorf("catalog fmt: %w", err))
			}
		}
		return errors.Join(errs...)
	}
	return fmt.Errorf("%w: %s", errUsage, catalogUsage)
}
