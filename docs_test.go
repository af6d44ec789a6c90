package axiom_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// The README and the pages of docs/ are what a newcomer reads: every
// relative link in them must lead somewhere, and the README's Go examples
// must be the ones the tests run.

var (
	mdLink    = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	codeSpan  = regexp.MustCompile("`[^`]*`")
	exampleOf = regexp.MustCompile(`^<!-- example: (\S+) -->$`)
)

// docFiles are the Markdown files whose links are checked.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	files := []string{filepath.Join(root, "README.md"), filepath.Join(root, "CHANGELOG.md")}
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append(files, pages...)
}

// proseLines returns a Markdown file's lines outside fenced code blocks,
// by line number, with inline code removed unless keepCode.
func proseLines(path string, keepCode bool) (map[int]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := map[int]string{}
	fence := false
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fence = !fence
			continue
		}
		if !fence && keepCode {
			lines[i+1] = l
		} else if !fence {
			lines[i+1] = codeSpan.ReplaceAllString(l, "")
		}
	}
	return lines, nil
}

// anchors are the ids GitHub gives the headings of a Markdown file.
func anchors(path string) (map[string]bool, error) {
	lines, err := proseLines(path, true)
	if err != nil {
		return nil, err
	}
	numbers := make([]int, 0, len(lines))
	for n := range lines {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers) // a repeated heading's id counts the ones before it
	ids := map[string]bool{}
	seen := map[string]int{}
	for _, n := range numbers {
		l := lines[n]
		if !strings.HasPrefix(l, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(l, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		id := b.String()
		if k := seen[id]; k > 0 {
			ids[fmt.Sprintf("%s-%d", id, k)] = true
		} else {
			ids[id] = true
		}
		seen[id]++
	}
	return ids, nil
}

// brokenLinks lists the relative links of files that lead nowhere: a
// missing file or directory, or a missing heading of a Markdown file.
func brokenLinks(files []string) ([]string, error) {
	var broken []string
	for _, file := range files {
		lines, err := proseLines(file, false)
		if err != nil {
			return nil, err
		}
		numbers := make([]int, 0, len(lines))
		for n := range lines {
			numbers = append(numbers, n)
		}
		slices.Sort(numbers)
		for _, n := range numbers {
			for _, m := range mdLink.FindAllStringSubmatch(lines[n], -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path, anchor, _ := strings.Cut(target, "#")
				resolved := file
				if path != "" {
					resolved = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
				}
				if _, err := os.Stat(resolved); err != nil {
					broken = append(broken, fmt.Sprintf("%s:%d: %s: no such file", file, n, target))
					continue
				}
				if anchor != "" && strings.HasSuffix(resolved, ".md") {
					ids, err := anchors(resolved)
					if err != nil {
						return nil, err
					}
					if !ids[anchor] {
						broken = append(broken, fmt.Sprintf("%s:%d: %s: no such heading", file, n, target))
					}
				}
			}
		}
	}
	return broken, nil
}

func TestDocLinksResolve(t *testing.T) {
	files := docFiles(t, ".")
	if len(files) < 10 {
		t.Fatalf("%d Markdown files; README, CHANGELOG and docs/ have more", len(files))
	}
	broken, err := brokenLinks(files)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range broken {
		t.Error(b)
	}
}

// The checker finds what it should: a missing file, a missing directory,
// a missing heading, in prose; and ignores links in code.
func TestLinkCheckerFindsBrokenLinks(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("docs/page.md", "# A page\n\n## The `go test` run, again\n")
	write("README.md", strings.Join([]string{
		"# Title",
		"[ok](docs/page.md) [ok](docs/page.md#the-go-test-run-again) [ok](docs) [ok](#title) [web](https://example.com/x)",
		"[gone](docs/missing.md)",
		"[no heading](docs/page.md#nowhere)",
		"[no dir](pkg/)",
		"[no anchor here](#other)",
		"`[in code](nowhere.md)`",
		"```",
		"[in a block](nowhere.md)",
		"```",
	}, "\n"))
	broken, err := brokenLinks([]string{filepath.Join(dir, "README.md")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"docs/missing.md: no such file", "docs/page.md#nowhere: no such heading", "pkg/: no such file", "#other: no such heading"}
	if len(broken) != len(want) {
		t.Fatalf("found %q; want %d broken links", broken, len(want))
	}
	for i, w := range want {
		if !strings.HasSuffix(broken[i], w) {
			t.Errorf("broken[%d] = %q; want … %s", i, broken[i], w)
		}
	}
}

// untestedExamples lists the README's Go blocks, each marked with the test
// file it comes from, whose lines are not that file's lines in order.
func untestedExamples(readme string) ([]string, error) {
	f, err := os.Open(readme)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var problems []string
	var source string
	var block []string
	in := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case exampleOf.MatchString(l):
			source = exampleOf.FindStringSubmatch(l)[1]
		case source != "" && l == "```go":
			in, block = true, nil
		case in && l == "```":
			if p := linesIn(filepath.Join(filepath.Dir(readme), source), block); p != "" {
				problems = append(problems, fmt.Sprintf("%s:%d: %s", readme, n, p))
			}
			in, source = false, ""
		case in:
			if s := strings.TrimSpace(l); s != "" {
				block = append(block, s)
			}
		}
	}
	return problems, sc.Err()
}

// linesIn says which of lines is not in the file at path, in order.
func linesIn(path string, lines []string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	next := 0
	for l := range strings.SplitSeq(string(b), "\n") {
		if next < len(lines) && strings.TrimSpace(l) == lines[next] {
			next++
		}
	}
	if next < len(lines) {
		return fmt.Sprintf("%q is not in %s after the lines before it", lines[next], path)
	}
	return ""
}

func TestReadmeExamplesAreTested(t *testing.T) {
	problems, err := untestedExamples("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "<!-- example: "); n < 2 {
		t.Errorf("%d marked examples in the README; it has the client's and the fake's", n)
	}
	if n := strings.Count(string(b), "\n"); n > 250 {
		t.Errorf("the README has %d lines: a newcomer reads it in five minutes; move details to docs/", n)
	}
	// A changed example is caught.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x_test.go"), []byte("func TestX(t *testing.T) {\n\tsrv := servertest.New(t)\n\tuse(srv)\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("<!-- example: x_test.go -->\n```go\nsrv := servertest.New(t)\nuse(srv.URL)\n```\n"), 0o644)
	if problems, err := untestedExamples(filepath.Join(dir, "README.md")); err != nil || len(problems) != 1 || !strings.Contains(problems[0], "use(srv.URL)") {
		t.Errorf("an example that differs from its test: %q, %v", problems, err)
	}
}
