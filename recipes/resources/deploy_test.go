package resources

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"

	"github.com/stackagent/stackagent/testenv"
)

// The deploy resource's tests run real deploys into a temporary root:
// DEPLOY_TO is /srv/www/app under it.

const deployTo = "/srv/www/app"

func deployRegistry() *recipes.Registry {
	g := recipes.NewRegistry()
	g.Register(deployKind())
	return g
}

// deployRecipe declares deploy "app" with the given properties (Lua).
func deployRecipe(props string) string {
	return fmt.Sprintf("deploy \"app\" {\n  deploy_to = %q,\n%s\n}\n", deployTo, props)
}

func runDeploy(t *testing.T, root, recipe string, whyRun bool) recipestest.Result {
	t.Helper()
	return recipestest.Converge(t, deployRegistry(), map[string]string{"test/recipes/default.lua": recipe},
		recipestest.Opts{Root: root, WhyRun: whyRun})
}

// mustDeploy converges and checks the number of updated resources.
func mustDeploy(t *testing.T, root, recipe string, wantUpdated int) recipestest.Result {
	t.Helper()
	res := runDeploy(t, root, recipe, false)
	if res.Err != nil {
		t.Fatalf("run: %v\n%s", res.Err, res.Output)
	}
	if res.Report.UpdatedResources != wantUpdated {
		t.Fatalf("%d resources updated, want %d\n%s", res.Report.UpdatedResources, wantUpdated, res.Output)
	}
	return res
}

func openSet(t *testing.T, root string) *ReleaseSet {
	t.Helper()
	s, err := OpenReleaseSet(filepath.Join(root, deployTo))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func currentName(t *testing.T, root string) string {
	t.Helper()
	cur, ok := openSet(t, root).Current()
	if !ok {
		t.Fatal("no current release")
	}
	return cur.Name
}

func releaseNames(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	for _, r := range openSet(t, root).List() {
		out = append(out, r.Name)
	}
	return out
}

// writeTree writes files (relative path → content) under dir.
func writeAppTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, full, c, 0o644)
	}
}

// localApp makes /src/app under root with an index.php saying version.
func localApp(t *testing.T, root, version string) string {
	t.Helper()
	writeAppTree(t, filepath.Join(root, "src/app"), map[string]string{
		"index.php":                     "<?php echo '" + version + "';",
		"wp-content/uploads/demo.txt":   "from the repository",
		"wp-content/themes/t/style.css": "body{}",
	})
	return `source_type = "local", repository = "/src/app"`
}

func TestDeployLocalIdempotentAndNewRevision(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	props := localApp(t, root, "v1")
	mustDeploy(t, root, deployRecipe(props), 1)
	cur := filepath.Join(root, deployTo, "current")
	if got := readFile(t, filepath.Join(cur, "index.php")); !strings.Contains(got, "v1") {
		t.Fatalf("current/index.php = %q", got)
	}
	first := currentName(t, root)
	if r, _ := openSet(t, root).Current(); r.Revision == "" || !strings.HasPrefix(r.Source, "local ") {
		t.Fatalf("release record: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(cur, ReleaseBuildingMarker)); !os.IsNotExist(err) {
		t.Fatalf("building marker left in a complete release: %v", err)
	}
	if target, _ := os.Readlink(cur); target != filepath.Join("releases", first) {
		t.Fatalf("current -> %s", target)
	}
	mustDeploy(t, root, deployRecipe(props), 0)

	localApp(t, root, "v2")
	res := mustDeploy(t, root, deployRecipe(props), 1)
	if !strings.Contains(res.Output, "switch /srv/www/app/current from release "+first) {
		t.Errorf("output:\n%s", res.Output)
	}
	if second := currentName(t, root); second <= first {
		t.Fatalf("current %s, want a release after %s", second, first)
	}
	if got := readFile(t, filepath.Join(cur, "index.php")); !strings.Contains(got, "v2") {
		t.Fatalf("current/index.php = %q", got)
	}
	// A mode change is a new revision too.
	if err := os.Chmod(filepath.Join(root, "src/app/index.php"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustDeploy(t, root, deployRecipe(props), 1)
	if got := permOf(t, filepath.Join(cur, "index.php")); got != "0600" {
		t.Fatalf("mode %s", got)
	}
	// force_deploy makes a new release of the same revision.
	n := len(releaseNames(t, root))
	mustDeploy(t, root, deployRecipe(props+`, action = "force_deploy"`), 1)
	if len(releaseNames(t, root)) != n+1 {
		t.Fatalf("force_deploy: releases %v", releaseNames(t, root))
	}
}

type entry struct{ name, body string }

func tarGzBytes(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func zipBytes(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.body))
	}
	zw.Close()
	return buf.Bytes()
}

func TestDeployHTTPArchives(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{
		"/v1.tar.gz": tarGzBytes(t, entry{"wordpress/index.php", "v1"}, entry{"wordpress/wp-includes/version.php", "1"}),
		"/v2.zip":    zipBytes(t, entry{"index.php", "v2"}, entry{"wp-includes/version.php", "2"}),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	root := t.TempDir()
	props := func(file, sum string) string {
		return fmt.Sprintf(`source_type = "http", repository = %q, checksum = %q`, srv.URL+file, sum)
	}
	cur := filepath.Join(root, deployTo, "current")

	mustDeploy(t, root, deployRecipe(props("/v1.tar.gz", sha(string(files["/v1.tar.gz"])))), 1)
	if got := readFile(t, filepath.Join(cur, "index.php")); got != "v1" { // wordpress/ stripped
		t.Fatalf("index.php = %q", got)
	}
	first := currentName(t, root)
	mustDeploy(t, root, deployRecipe(props("/v1.tar.gz", sha(string(files["/v1.tar.gz"])))), 0)

	// A wrong checksum is refused before anything changes.
	before := treeState(t, root)
	res := runDeploy(t, root, deployRecipe(props("/v2.zip", strings.Repeat("0", 64))), false)
	if res.Err == nil || !strings.Contains(res.Output, "checksum mismatch") {
		t.Fatalf("mismatch accepted: %v\n%s", res.Err, res.Output)
	}
	if after := treeState(t, root); after != before {
		t.Fatalf("a refused archive changed the tree:\n%s\n---\n%s", before, after)
	}
	if currentName(t, root) != first {
		t.Fatal("current moved")
	}

	mustDeploy(t, root, deployRecipe(props("/v2.zip", sha(string(files["/v2.zip"])))), 1)
	if got := readFile(t, filepath.Join(cur, "wp-includes/version.php")); got != "2" {
		t.Fatalf("version.php = %q", got)
	}
	// Plain http without a checksum is refused before anything is fetched,
	// with a message naming the property.
	before = treeState(t, root)
	res = runDeploy(t, root, deployRecipe(fmt.Sprintf(`source_type = "http", repository = %q`, srv.URL+"/v2.zip")), false)
	if res.Err == nil || !strings.Contains(res.Output, "a plain http:// source needs a checksum: set checksum = ") {
		t.Fatalf("plain http without a checksum: %v\n%s", res.Err, res.Output)
	}
	if after := treeState(t, root); after != before {
		t.Fatalf("a refused source changed the tree:\n%s\n---\n%s", before, after)
	}
}

func TestDeployLocalArchive(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "app.tar.gz"), string(tarGzBytes(t, entry{"a/index.php", "a"}, entry{"b/index.php", "b"})), 0o644)
	mustDeploy(t, root, deployRecipe(`source_type = "archive", repository = "/app.tar.gz"`), 1)
	if got := readFile(t, filepath.Join(root, deployTo, "current/b/index.php")); got != "b" {
		t.Fatalf("b/index.php = %q", got)
	}
	mustDeploy(t, root, deployRecipe(`source_type = "archive", repository = "/app.tar.gz"`), 0)
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestDeployGit(t *testing.T) {
	t.Parallel()
	testenv.Command(t, "git", "scripts/test-deps.sh installs it, as root")
	repo := t.TempDir()
	git(t, repo, "init", "-q", "-b", "main")
	writeAppTree(t, repo, map[string]string{"index.php": "v1"})
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "v1")
	root := t.TempDir()
	props := fmt.Sprintf(`source_type = "git", repository = %q, revision = "main"`, "file://"+repo)
	mustDeploy(t, root, deployRecipe(props), 1)
	cur := filepath.Join(root, deployTo, "current")
	if got := readFile(t, filepath.Join(cur, "index.php")); got != "v1" {
		t.Fatalf("index.php = %q", got)
	}
	if _, err := os.Stat(filepath.Join(cur, ".git")); !os.IsNotExist(err) {
		t.Fatal(".git left in the release")
	}
	r, _ := openSet(t, root).Current()
	if want := git(t, repo, "rev-parse", "HEAD"); r.Revision != want {
		t.Fatalf("revision %s, want %s", r.Revision, want)
	}
	mustDeploy(t, root, deployRecipe(props), 0)

	writeAppTree(t, repo, map[string]string{"index.php": "v2"})
	git(t, repo, "commit", "-q", "-am", "v2")
	git(t, repo, "tag", "v2")
	mustDeploy(t, root, deployRecipe(props), 1)
	if got := readFile(t, filepath.Join(cur, "index.php")); got != "v2" {
		t.Fatalf("index.php = %q", got)
	}
	// A sha pins the first commit again.
	first := git(t, repo, "rev-parse", "HEAD~1")
	mustDeploy(t, root, deployRecipe(fmt.Sprintf(`source_type = "git", repository = %q, revision = %q`, "file://"+repo, first)), 1)
	if got := readFile(t, filepath.Join(cur, "index.php")); got != "v1" {
		t.Fatalf("index.php = %q", got)
	}
	res := runDeploy(t, root, deployRecipe(fmt.Sprintf(`source_type = "git", repository = %q, revision = "nope"`, "file://"+repo)), false)
	if res.Err == nil || !strings.Contains(res.Output, `revision "nope" not found`) {
		t.Fatalf("unknown revision: %v\n%s", res.Err, res.Output)
	}
}

// deployVersions deploys n distinct revisions of a local app.
func deployVersions(t *testing.T, root, extra string, n int) string {
	t.Helper()
	var props string
	for i := range n {
		props = localApp(t, root, fmt.Sprintf("v%d", i)) + extra
		mustDeploy(t, root, deployRecipe(props), 1)
	}
	return props
}

func TestDeployKeepReleases(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	deployVersions(t, root, ", keep_releases = 3", 5)
	names := releaseNames(t, root)
	if len(names) != 3 || currentName(t, root) != names[2] {
		t.Fatalf("releases %v, current %s", names, currentName(t, root))
	}
	// keep 1 still spares the release before current.
	deployVersions(t, root, ", keep_releases = 1", 1)
	if got := releaseNames(t, root); len(got) != 2 || got[0] != names[2] {
		t.Fatalf("keep 1: releases %v", got)
	}
	res := runDeploy(t, root, deployRecipe(`source_type = "local", repository = "/src/app", keep_releases = 0`), false)
	if res.Err == nil || !strings.Contains(res.Output, "keep_releases 0: want at least 1") {
		t.Fatalf("keep 0: %v\n%s", res.Err, res.Output)
	}
}

func TestPruneNamesSparesCurrentAndPrevious(t *testing.T) {
	t.Parallel()
	names := []string{"20240101000001", "20240101000002", "20240101000003", "20240101000004", "20240101000005"}
	// After a rollback current is the second oldest: it and the oldest stay.
	got := pruneNames(names, names[1], 2)
	if want := []string{names[2]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pruned %v, want %v", got, want)
	}
}

func TestDeployRollback(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	props := deployVersions(t, root, "", 3)
	names := releaseNames(t, root)
	cur := filepath.Join(root, deployTo, "current")

	res := mustDeploy(t, root, deployRecipe(props+`, action = "rollback"`), 1)
	if currentName(t, root) != names[1] || readFile(t, filepath.Join(cur, "index.php")) != "<?php echo 'v1';" {
		t.Fatalf("rollback: current %s\n%s", currentName(t, root), res.Output)
	}
	mustDeploy(t, root, deployRecipe(props+`, action = "rollback"`), 1)
	if currentName(t, root) != names[0] {
		t.Fatalf("second rollback: current %s", currentName(t, root))
	}
	// Past the oldest: a clear error, nothing changed.
	before := treeState(t, root)
	res = runDeploy(t, root, deployRecipe(props+`, action = "rollback"`), false)
	if res.Err == nil || !strings.Contains(res.Output, "no release before the current one") || !strings.Contains(res.Output, "oldest kept release") {
		t.Fatalf("rollback past the oldest: %v\n%s", res.Err, res.Output)
	}
	if after := treeState(t, root); after != before {
		t.Fatal("a refused rollback changed the tree")
	}
	// rollback_to a named release; to the current one is up to date.
	mustDeploy(t, root, deployRecipe(props+fmt.Sprintf(`, action = "rollback", rollback_to = %q`, names[2])), 1)
	if currentName(t, root) != names[2] {
		t.Fatalf("rollback_to: current %s", currentName(t, root))
	}
	mustDeploy(t, root, deployRecipe(props+fmt.Sprintf(`, action = "rollback", rollback_to = %q`, names[2])), 0)
	res = runDeploy(t, root, deployRecipe(props+`, action = "rollback", rollback_to = "20000101000000"`), false)
	if res.Err == nil || !strings.Contains(res.Output, "no such release") {
		t.Fatalf("rollback_to unknown: %v\n%s", res.Err, res.Output)
	}
	// The release set API says the same.
	set := openSet(t, root)
	from, to, err := set.Rollback("")
	if err != nil || from != names[2] || to != names[1] {
		t.Fatalf("Rollback: %s → %s, %v", from, to, err)
	}
}

func TestDeployFailingHookLeavesCurrent(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	props := deployVersions(t, root, "", 1)
	first := currentName(t, root)
	writeAppTree(t, filepath.Join(root, "src/app"), map[string]string{
		"index.php":                 "v2",
		"deploy/before_symlink.lua": `error("migration refused in " .. release_path)`,
	})
	res := runDeploy(t, root, deployRecipe(props), false)
	if res.Err == nil || !strings.Contains(res.Output, "migration refused") || !strings.Contains(res.Output, "before_symlink") {
		t.Fatalf("failing hook: %v\n%s", res.Err, res.Output)
	}
	if currentName(t, root) != first {
		t.Fatal("current moved after a failed deploy")
	}
	half := openSet(t, root).HalfBuilt()
	if len(half) != 1 {
		t.Fatalf("half-built releases %v", half)
	}
	if got := releaseNames(t, root); len(got) != 1 {
		t.Fatalf("a half-built release is listed: %v", got)
	}
	// The next run removes it (and deploys the fixed app).
	if err := os.Remove(filepath.Join(root, "src/app/deploy/before_symlink.lua")); err != nil {
		t.Fatal(err)
	}
	res = mustDeploy(t, root, deployRecipe(props), 1)
	if !strings.Contains(res.Output, "remove half-built release "+half[0]) {
		t.Errorf("output:\n%s", res.Output)
	}
	if h := openSet(t, root).HalfBuilt(); len(h) != 0 {
		t.Fatalf("half-built releases left: %v", h)
	}
	if got := readFile(t, filepath.Join(root, deployTo, "current/index.php")); got != "v2" {
		t.Fatalf("index.php = %q", got)
	}
}

func TestDeployHooksSeeTheirGlobals(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	props := localApp(t, root, "v1")
	check := `assert(app == "app", "app")
assert(deploy_to:sub(-12) == "/srv/www/app", "deploy_to " .. deploy_to)
assert(release_path:find("/srv/www/app/releases/", 1, true), "release_path")
assert(shared_path == deploy_to .. "/shared", "shared_path")
assert(environment.WP_ENV == "production", "environment")
`
	hooks := map[string]string{}
	for _, h := range []string{"before_migrate", "before_symlink", "before_restart", "after_restart"} {
		hooks["deploy/"+h+".lua"] = check
	}
	writeAppTree(t, filepath.Join(root, "src/app"), hooks)
	mustDeploy(t, root, deployRecipe(props+`, environment = { WP_ENV = "production" }`), 1)
	writeAppTree(t, filepath.Join(root, "src/app"), map[string]string{"deploy/after_restart.lua": `error("after_restart ran")`})
	res := runDeploy(t, root, deployRecipe(props+`, environment = { WP_ENV = "production" }`), false)
	if res.Err == nil || !strings.Contains(res.Output, "after_restart ran") {
		t.Fatalf("after_restart: %v\n%s", res.Err, res.Output)
	}
	// after_restart runs after the switch.
	if got := readFile(t, filepath.Join(root, deployTo, "current/deploy/after_restart.lua")); !strings.Contains(got, "after_restart ran") {
		t.Fatal("after_restart ran before current switched")
	}
}

func TestNewReleaseSameSecond(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	set, err := OpenReleaseSet(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := recipestestNow()
	a, err := set.NewRelease(now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := set.NewRelease(now)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || a != now.UTC().Format(ReleaseTimeFormat) || b <= a {
		t.Fatalf("names %s, %s", a, b)
	}
	// Two full deploys back to back get distinct names too.
	root := t.TempDir()
	deployVersions(t, root, "", 2)
	if n := releaseNames(t, root); len(n) != 2 || n[0] == n[1] {
		t.Fatalf("releases %v", n)
	}
}

func TestDeployWhyRunChangesNothing(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	props := localApp(t, root, "v1")
	before := treeState(t, root)
	res := runDeploy(t, root, deployRecipe(props), true)
	if res.Err != nil || !strings.Contains(res.Output, "Would build a new release") {
		t.Fatalf("why-run: %v\n%s", res.Err, res.Output)
	}
	if after := treeState(t, root); after != before {
		t.Fatalf("why-run changed the tree:\n%s\n---\n%s", before, after)
	}
	mustDeploy(t, root, deployRecipe(props), 1)
	localApp(t, root, "v2")
	before = treeState(t, root)
	for _, action := range []string{"deploy", "rollback", "undeploy"} {
		res := runDeploy(t, root, deployRecipe(props+`, action = "`+action+`"`), true)
		if res.Err != nil {
			t.Fatalf("why-run %s: %v\n%s", action, res.Err, res.Output)
		}
	}
	if after := treeState(t, root); after != before {
		t.Fatalf("why-run changed the tree:\n%s\n---\n%s", before, after)
	}
}

func TestDeploySharedDirsSurvive(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	extra := `, shared_dirs = {"wp-content/uploads"},
  symlinks = { ["config/wp-config.php"] = "wp-config.php" },
  purge_before_symlink = {"wp-content/cache"}, create_dirs_before_symlink = {"tmp"}`
	props := deployVersions(t, root, extra, 1)
	shared := filepath.Join(root, deployTo, "shared")
	cur := filepath.Join(root, deployTo, "current")
	if _, err := os.Stat(filepath.Join(shared, "wp-content/uploads/demo.txt")); !os.IsNotExist(err) {
		t.Fatal("the release's copy of a shared dir was moved into shared/")
	}
	writeAppTree(t, shared, map[string]string{"wp-content/uploads/2024/a.jpg": "jpeg", "config/wp-config.php": "<?php // config"})
	check := func(when string) {
		t.Helper()
		if got := readFile(t, filepath.Join(cur, "wp-content/uploads/2024/a.jpg")); got != "jpeg" {
			t.Fatalf("%s: upload = %q", when, got)
		}
		if got := readFile(t, filepath.Join(cur, "wp-config.php")); got != "<?php // config" {
			t.Fatalf("%s: wp-config.php = %q", when, got)
		}
		if st, err := os.Stat(filepath.Join(cur, "tmp")); err != nil || !st.IsDir() {
			t.Fatalf("%s: tmp: %v", when, err)
		}
	}
	check("first deploy")
	localApp(t, root, "v2")
	mustDeploy(t, root, deployRecipe(props), 1)
	check("second deploy")
	mustDeploy(t, root, deployRecipe(props+`, action = "rollback"`), 1)
	check("rollback")
	if got := readFile(t, filepath.Join(shared, "wp-content/uploads/2024/a.jpg")); got != "jpeg" {
		t.Fatal("shared upload lost")
	}
	res := runDeploy(t, root, deployRecipe(`source_type = "local", repository = "/src/app", shared_dirs = {"../etc"}`), false)
	if res.Err == nil || !strings.Contains(res.Output, "must be a relative path inside the release") {
		t.Fatalf("climbing shared dir: %v\n%s", res.Err, res.Output)
	}
}

func TestDeployUndeploy(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	props := deployVersions(t, root, `, shared_dirs = {"uploads"}`, 2)
	app := filepath.Join(root, deployTo)
	writeAppTree(t, app, map[string]string{"shared/uploads/a.jpg": "jpeg"})
	mustDeploy(t, root, deployRecipe(props+`, action = "undeploy"`), 1)
	ents, _ := os.ReadDir(app)
	if len(ents) != 1 || ents[0].Name() != "shared" || readFile(t, filepath.Join(app, "shared/uploads/a.jpg")) != "jpeg" {
		t.Fatalf("after undeploy: %v", ents)
	}
	mustDeploy(t, root, deployRecipe(props+`, action = "undeploy"`), 0)
	mustDeploy(t, root, deployRecipe(props+`, action = "undeploy", purge_shared = true`), 1)
	if _, err := os.Stat(app); !os.IsNotExist(err) {
		t.Fatalf("purge_shared left %s: %v", app, err)
	}
	mustDeploy(t, root, deployRecipe(props+`, action = "undeploy", purge_shared = true`), 0)
}

func TestDeployOwner(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	root := t.TempDir()
	deployVersions(t, root, `, owner = "nobody", group = "nogroup", shared_dirs = {"uploads"}`, 1)
	for _, p := range []string{"current/index.php", "current/wp-content", "shared/uploads"} {
		fi, err := os.Stat(filepath.Join(root, deployTo, p))
		if err != nil {
			t.Fatal(err)
		}
		if n := nodeOf(fi); userName(n.uid) != "nobody" {
			t.Errorf("%s owned by %s", p, userName(n.uid))
		}
	}
}

// TestCurrentNeverAbsent switches current 50 times while a goroutine
// reads it in a tight loop: every readlink and stat must succeed.
func TestCurrentNeverAbsent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	set, err := OpenReleaseSet(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := recipestestNow()
	var names []string
	for range 2 {
		n, err := set.NewRelease(now)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(set.Path(n), "index.php"), n, 0o644)
		if err := set.Finish(n, "rev-"+n, "test", now); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := set.Switch(names[0]); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	errs := make(chan error, 1)
	started := make(chan struct{})
	checks := 0
	go func() {
		defer close(errs)
		cur := set.CurrentLink()
		for i := 0; i < 5_000_000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := os.Readlink(cur); err != nil {
				errs <- err
				return
			}
			if _, err := os.Stat(filepath.Join(cur, "index.php")); err != nil {
				errs <- err
				return
			}
			if checks++; checks == 1 {
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case err := <-errs:
		t.Fatalf("current unreadable before any switch: %v", err)
	}
	for i := range 50 {
		if err := set.Switch(names[(i+1)%2]); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if err := <-errs; err != nil {
		t.Fatalf("current absent or dangling during a switch: %v", err)
	}
	if checks == 0 {
		t.Fatal("no checks ran")
	}
	if stale, _ := filepath.Glob(filepath.Join(dir, "current.tmp-*")); len(stale) > 0 {
		t.Fatalf("temp links left: %v", stale)
	}
}

func recipestestNow() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC) }
