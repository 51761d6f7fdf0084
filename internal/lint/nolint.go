package lint

import (
	"slices"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqlcheck"
)

// skipRules are the `-- atlas:nolint` directives of a file, as atlas applies them: a file
// directive without arguments skips the file; a file directive with arguments (codes such as
// DS103, or analyzer names such as destructive) applies to every statement; a statement's own
// directive applies to that statement.
type skipRules struct {
	byPos   map[int][]string // statement position -> rules
	ignored bool             // the whole file is skipped
	skipped bool             // the last report was silenced entirely
}

func nolintRules(f *sqlcheck.File) *skipRules {
	s := &skipRules{byPos: map[int][]string{}}
	if l, ok := f.File.(*migrate.LocalFile); ok {
		ds := l.Directive("nolint")
		if s.ignored = len(ds) == 1 && ds[0] == ""; s.ignored {
			return s
		}
		for _, d := range ds {
			for _, c := range f.Changes {
				s.byPos[c.Stmt.Pos] = append(s.byPos[c.Stmt.Pos], strings.Split(d, " ")...)
			}
		}
	}
	for _, c := range f.Changes {
		if c.Stmt != nil {
			for _, d := range c.Stmt.Directive("nolint") {
				s.byPos[c.Stmt.Pos] = append(s.byPos[c.Stmt.Pos], strings.Split(d, " ")...)
			}
		}
	}
	return s
}

// reporterFor drops the diagnostics the rules silence before they reach rw.
func (s *skipRules) reporterFor(rw sqlcheck.ReportWriter, az sqlcheck.Analyzer) sqlcheck.ReportWriter {
	named, isNamed := az.(sqlcheck.NamedAnalyzer)
	return sqlcheck.ReportWriterFunc(func(r sqlcheck.Report) {
		kept := make([]sqlcheck.Diagnostic, 0, len(r.Diagnostics))
		for _, d := range r.Diagnostics {
			rules := s.byPos[d.Pos]
			switch {
			case len(rules) == 1 && rules[0] == "":
			case slices.Contains(rules, d.Code):
			case isNamed && slices.Contains(rules, named.Name()):
			default:
				kept = append(kept, d)
			}
		}
		if s.skipped = len(kept) == 0; !s.skipped {
			rw.WriteReport(sqlcheck.Report{Text: r.Text, Desc: r.Desc, Diagnostics: kept, SuggestedFixes: r.SuggestedFixes})
		}
	})
}
