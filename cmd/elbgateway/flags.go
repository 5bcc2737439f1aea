package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// subcommandFlags are a subcommand's flags: registered on a flag set, then checked together.
type subcommandFlags interface {
	register(fs *flag.FlagSet)
	validate() error
}

// parseFlags parses args into f for the subcommand name, refuses positional arguments (hint
// says what to pass instead, if anything) and validates the result.
func parseFlags(name string, args []string, stderr io.Writer, f subcommandFlags, hint string) error {
	fs := flag.NewFlagSet("elbgateway "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s%s", strings.Join(fs.Args(), " "), hint)
	}
	return f.validate()
}
