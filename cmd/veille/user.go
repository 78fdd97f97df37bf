package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/backend"
	"github.com/veille-project/veille/web"
)

func init() {
	register(&command{
		name:    "user",
		summary: "manage web users: user add|list|revoke",
		run:     runUser,
	})
}

const userUsage = `veille user add --name NAME --role admin|reviewer|radio|analyst [--lang fr|en|ar|sw|ln|sg] [--ui fr|en] [--mission MONUSCO]
veille user list
veille user revoke --name NAME
(each takes --config veille.yaml)`

func runUser(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, userUsage)
	}
	fs := newFlags("user " + args[0])
	cfgPath := fs.String("config", "veille.yaml", "configuration file")
	name := fs.String("name", "", "user name (lower-case letters, digits, . _ -)")
	role := fs.String("role", "", "role: admin, reviewer, radio or analyst")
	lang := fs.String("lang", "en", "the user's language, for response lines: en, fr, ar, sw, ln, sg")
	ui := fs.String("ui", "", "interface language, en or fr (default: --lang when it is one of them, else fr)")
	mission := fs.String("mission", "", "a station's own mission, the default of its rumour checks (MINUSMA, MINUSCA, MONUSCO, UNMISS, UNIFIL, UNISFA)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath, userFlagSet(fs, "config"))
	if err != nil {
		return err
	}
	st, err := backend.Open(ctx, cfg.ClickHouse, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	switch args[0] {
	case "add":
		if *name == "" || *role == "" {
			return fmt.Errorf("%w: %s", errUsage, userUsage)
		}
		u, secret, err := web.CreateUserWith(ctx, st, web.NewUser{Name: *name, Role: *role, Lang: *lang, UILang: *ui, Mission: *mission}, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "user %s (%s; interface %s, response lines %s) created; its token is shown once, keep it safe:\n",
			u.Name, u.Role, u.Lang, u.ResponseLang)
		fmt.Println(secret)
		return nil
	case "list":
		users, err := st.Users(ctx)
		if err != nil {
			return err
		}
		return printUsers(users)
	case "revoke":
		if *name == "" {
			return fmt.Errorf("%w: %s", errUsage, userUsage)
		}
		if err := web.RevokeUser(ctx, st, *name); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "user %s revoked: their tokens and sessions no longer work\n", *name)
		return nil
	default:
		return fmt.Errorf("%w: unknown user command %q\n%s", errUsage, args[0], userUsage)
	}
}

func printUsers(users []storage.User) error {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tINTERFACE\tRESPONSES\tMISSION\tSTATE\tCREATED")
	for _, u := range users {
		state := "active"
		if u.Disabled {
			state = "revoked"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, u.Lang, or(u.ResponseLang, "-"), or(u.Mission, "-"), state, u.Created.UTC().Format(time.DateOnly))
	}
	return tw.Flush()
}

// userFlagSet says whether a flag was given on the command line.
func userFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
