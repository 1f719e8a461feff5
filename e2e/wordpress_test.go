package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The WordPress issue, end to end, as root on this host: the agent's own
// recipes set up Apache and PHP, deploy Debian's WordPress as releases
// (an archive, then a git repository), roll back, undeploy and shut down,
// driven by lifecycle events through the daemon's local inbox and by the
// CLI, against the real Apache, PHP and MariaDB. EFS is a bind mount (the
// efs cookbook's test-only overrides) through the real mount code and
// /etc/fstab; the exact line for a real EFS file system is checked by
// cookbooks' TestEFSMount. The database password is an SSM secret
// reference resolved against a stand-in SSM server.
//
// Left on the host afterwards: what setup installs and configures for
// Apache and PHP (packages, modules, ports.conf, conf-available/
// stackagent.conf, 000-default disabled), the agent's own directories.
// Apache and php-fpm are left stopped; MariaDB as found.

// The app is not called wordpress, so that the test never touches a
// WordPress of the host's own (bench/run.sh leaves one behind).
const (
	app        = "e2ewp"
	deployTo   = "/srv/www/" + app
	vhostFile  = "/etc/apache2/sites-available/" + app + ".conf"
	vhostLink  = "/etc/apache2/sites-enabled/" + app + ".conf"
	efsMount   = "/mnt/stackagent-e2e-efs"
	uploadPath = "/wp-content/uploads/2026/11/test.txt"
	dbErrorMsg = "Error establishing a database connection"
	ssmParam   = "/stackagent-e2e/wordpress/db_password"
	dbName     = "stackagent_e2e"
	dbUser     = "stackagent_e2e"
)

func TestWordPress(t *testing.T) {
	requireE2E(t, "apache2ctl", "php", "mysql", "mysqladmin", "git", "tar", "mount", "umount")
	requireWordPressTree(t)
	began := time.Now()
	phase := began
	lap := func(what string) {
		t.Logf("timing: %-44s %6.1fs", what, time.Since(phase).Seconds())
		phase = time.Now()
	}
	// What needs neither Apache nor MariaDB comes first: the binary, the
	// sources, the stand-in SSM.
	bin := buildAgent(t)
	password := "e2e-" + randomHex(12)
	ssm, awsEnv := startSSM(t, map[string]string{ssmParam: password})
	archiveTree := wordpressCopy(t, "archive")
	archive := tarball(t, archiveTree)
	repo := wordpressCopy(t, "git r0")
	gitRepo(t, repo, 12)
	lap("build the agent, the archive and the git repo")

	LockApache(t)
	lap("wait for the Apache lock")
	ensureMariaDB(t)

	// Everything the test makes on the host goes away at the end (t.Cleanup
	// runs last registered first: the daemon stops, then this), and
	// before it starts, in case a run was killed before its cleanup.
	removeApp(t, true)
	_, deployUserErr := runErr("id", "deploy")
	keepFstab(t)
	efsDevice := t.TempDir() // the "EFS" file system: a bind mount's source
	t.Cleanup(func() {
		stopApache(t)
		stopPHPFPM(t)
		removeApp(t, false)
		if deployUserErr != nil { // the deploy user is the recipes'
			runErr("userdel", "-r", "deploy")
		}
	})

	dropDB := fmt.Sprintf("DROP DATABASE IF EXISTS %s; DROP USER IF EXISTS '%s'@'localhost';", dbName, dbUser)
	mysql(t, dropDB)
	t.Cleanup(func() { mysql(t, dropDB) })

	dir := t.TempDir()
	cfg := agentConfig(t, dir, "e2e", "wordpress", "e2e-host")
	stack := map[string]any{
		"deploy": map[string]any{app: map[string]any{
			"application_type": "wordpress",
			"scm":              map[string]any{"scm_type": "archive", "repository": archive},
			"domains":          []string{siteHost},
			"keep_releases":    3,
			"database": map[string]any{
				"host": "localhost", "database": dbName, "username": dbUser,
				"password": map[string]any{"secret": "ssm:" + ssmParam},
			},
		}},
		"efs": map[string]any{
			"file_system_id": "fs-12345678", "region": "us-east-1", "mount_point": efsMount,
			"device_override": efsDevice, "fstype_override": "none", "options_override": []string{"bind"},
		},
	}
	b, _ := json.MarshalIndent(stack, "", "  ")
	writeFile(t, filepath.Join(dir, "attributes.d", "stack.json"), string(b))
	a := startAgent(t, bin, cfg, awsEnv)

	// setup: Apache and PHP through the package resource, EFS, the layout.
	r := a.send(t, map[string]any{"type": "setup"})
	mustSucceed(t, "setup", r)
	t.Logf("setup: %d/%d resources updated, run list %v", r.Updated, r.Total, r.RunList)
	lap("setup")
	r = a.send(t, map[string]any{"type": "setup"})
	mustSucceed(t, "second setup", r)
	if r.Updated != 0 {
		t.Errorf("second setup: %d/%d resources updated, want 0\n%s", r.Updated, r.Total, r.Output)
	}
	lap("second setup (0 updated)")

	// EFS stand-in: the real mount resource mounted it and wrote fstab.
	checkEFS(t, efsDevice)

	// deploy #1: the archive.
	mustSucceed(t, "deploy archive", a.send(t, map[string]any{"type": "deploy", "app": app}))
	lap("deploy (archive)")
	checkServedFrom(t, "archive")
	// Before its database exists WordPress must say so: the page the test
	// must never see once it does (and proof that the check can fail).
	status, body, _, err := get("/")
	if err != nil || !strings.Contains(body, dbErrorMsg) {
		t.Fatalf("before the database exists: GET / = %d %v, want %q\n%.1000s", status, err, dbErrorMsg, body)
	}
	mysql(t, fmt.Sprintf("CREATE DATABASE %s; CREATE USER '%s'@'localhost' IDENTIFIED BY '%s'; GRANT ALL ON %s.* TO '%s'@'localhost';",
		dbName, dbUser, password, dbName, dbUser))
	checkInstallPage(t)

	// An upload, written through current's link into the shared dir on
	// the "EFS" mount.
	upload := "uploaded " + randomHex(4) + "\n"
	writeFile(t, deployTo+"/current"+uploadPath, upload)
	if b, err := os.ReadFile(filepath.Join(efsDevice, app+"/shared", uploadPath)); err != nil || string(b) != upload {
		t.Fatalf("the upload is not on the EFS stand-in: %q %v", b, err)
	}
	checkUpload(t, upload)
	lap("install page, database, upload")

	// deploy #2: git; then rollback to the archive.
	mustSucceed(t, "deploy git r1", a.send(t, gitDeploy(repo, "r1")))
	checkServedFrom(t, "git r1")
	checkUpload(t, upload)
	rels := releases(t, a)
	if len(rels) != 2 || !rels[1].Current {
		t.Fatalf("after two deploys: releases %+v, want 2 with the newest current", rels)
	}
	mustSucceed(t, "rollback", a.send(t, map[string]any{"type": "deploy", "app": app, "command": "rollback"}))
	checkServedFrom(t, "archive")
	checkUpload(t, upload)
	checkInstallPage(t)
	rels = releases(t, a)
	if len(rels) != 2 || !rels[0].Current {
		t.Fatalf("after the rollback: releases %+v, want the archive's (the first) current", rels)
	}
	out, err := a.cli(t, "releases", app)
	if err != nil || !hasLine(out, "*", rels[0].Name) || !hasLine(out, rels[1].Name) {
		t.Fatalf("stackagent releases %s: %v\n%s", app, err, out)
	}
	t.Logf("stackagent releases %s:\n%s", app, out)
	lap("deploy (git), rollback, releases")

	// 10 deploys and 3 rollbacks under load. Under php-fpm a release
	// switch reloads nothing: Apache and php-fpm keep their parent pids,
	// no connection is closed, and the p99 latency while deploying stays
	// within twice the steady state's, measured in quiet windows between
	// the deploys of the same run. The agent runs at nice 10, as its
	// systemd unit has it (Apache and php-fpm, started by systemd there,
	// at 0).
	pid, fpmPID := apachePID(), phpFPMPID()
	if fpmPID == "" {
		t.Fatalf("php-fpm does not run after setup (the default handler is fpm)")
	}
	renice(t, a.cmd.Process.Pid, agentNice)
	l := startDeployLoad(4, 4, []string{"/readme.html", "/" + markerFile, "/wp-admin/install.php", uploadPath, "/", "/wp-login.php", "/" + wherePHP})
	time.Sleep(time.Second) // warm-up: opcache, php-fpm children
	l.record(true)
	quiet := func() { time.Sleep(deployQuiet) }
	quiet()
	var slowestSwitch time.Duration
	plan := []string{"r2", "r3", "r4", "rollback", "r5", "r6", "r7", "rollback", "r8", "r9", "r10", "rollback", "r11"}
	for i, step := range plan {
		var before []release
		ev := gitDeploy(repo, step)
		if step == "rollback" {
			before = releases(t, a)
			ev = map[string]any{"type": "deploy", "app": app, "command": "rollback"}
		}
		l.setDeploying(true)
		r := a.send(t, ev)
		done := time.Now()
		mustSucceed(t, step+" under load", r)
		mustNotReload(t, step, r)
		if step == "rollback" {
			after := releases(t, a)
			if cur, prev := current(t, after), previous(t, before); cur != prev {
				t.Errorf("rollback %d: current %s, want %s (the release before %s)", i, cur, prev, current(t, before))
			}
			checkServedFrom(t, markerOf(t, current(t, after)))
		} else {
			checkServedFrom(t, "git "+step)
		}
		slowestSwitch = max(slowestSwitch, time.Since(done))
		l.setDeploying(false)
		checkUpload(t, upload)
		if n := len(releases(t, a)); n > 3 {
			t.Errorf("after %s: %d releases, keep_releases is 3", step, n)
		}
		quiet()
	}
	l.finish()
	st := l.stats()
	t.Logf("load during 10 deploys and 3 rollbacks: %s", st)
	t.Logf("the new release served by PHP at most %s after the deploy's result", slowestSwitch.Round(time.Millisecond))
	for _, k := range []clientKind{newConn, keepAlive} {
		if st.failed[k] != 0 || st.errs[k] != 0 || st.requests[k] < 100 {
			t.Errorf("%s clients: %d requests, %d failed, %d errors; want 0 failed and 0 errors of at least 100", k, st.requests[k], st.failed[k], st.errs[k])
		}
	}
	if st.reused == 0 || st.retried != 0 {
		t.Errorf("keep-alive clients: %d requests on a reused connection (want some), %d sent again after the server closed one (want 0)", st.reused, st.retried)
	}
	if st.steadyN < minSamples || st.duringN < minSamples {
		t.Errorf("too few samples for a p99: %d steady, %d during deploys; want %d each", st.steadyN, st.duringN, minSamples)
	} else {
		// The p99 ratio (target ≤ 2×) is a measurement, logged for
		// docs/benchmarks.md: on a shared 2-core box its margin is the
		// box's load, so it is no pass/fail check (timing stays out of
		// tests). The errors above are the check.
		verdict := "within"
		if st.ratio() > 2 {
			verdict = "OVER"
		}
		t.Logf("p99 during deploys %s vs steady %s: %.2f×, %s the 2× target", st.duringP99, st.steadyP99, st.ratio(), verdict)
	}
	if now := apachePID(); now != pid {
		t.Errorf("Apache's parent pid changed from %s to %s during deploys: restarted", pid, now)
	}
	if now := phpFPMPID(); now != fpmPID {
		t.Errorf("php-fpm's master pid changed from %s to %s during deploys: restarted or reloaded", fpmPID, now)
	}
	rels = releases(t, a)
	entries, _ := os.ReadDir(deployTo + "/releases")
	if len(rels) != 3 || len(entries) != 3 {
		t.Errorf("keep_releases 3: releases lists %d, releases/ holds %d", len(rels), len(entries))
	}
	lap("10 deploys + 3 rollbacks under load")

	// The CLI converges a rollback too, under the same lock and config.
	before := releases(t, a)
	if out, err := a.cli(t, "rollback", app, "--config", a.config); err != nil {
		t.Errorf("stackagent rollback %s: %v\n%s", app, err, out)
	} else if cur := current(t, releases(t, a)); cur != previous(t, before) {
		t.Errorf("stackagent rollback: current %s, want %s", cur, previous(t, before))
	} else {
		checkServedFrom(t, markerOf(t, cur))
	}
	lap("rollback by the CLI")

	// The password: in wp-config.php, nowhere else.
	wpConfig, err := os.ReadFile(filepath.Join(efsDevice, app+"/shared/config/wp-config.php"))
	if err != nil || !strings.Contains(string(wpConfig), fmt.Sprintf("define( 'DB_PASSWORD', '%s' );", password)) {
		t.Errorf("wp-config.php does not define DB_PASSWORD from SSM (%v)", err)
	}
	ssm.mu.Lock()
	if ssm.gets == 0 || len(ssm.bad) > 0 {
		t.Errorf("SSM: %d GetParameter answered, bad requests %v", ssm.gets, ssm.bad)
	}
	ssm.mu.Unlock()
	checkNoPassword(t, password, a)

	// undeploy: the vhost and the app go; the upload stays on "EFS".
	mustSucceed(t, "undeploy", a.send(t, map[string]any{"type": "undeploy", "app": app}))
	for _, p := range []string{vhostFile, vhostLink, deployTo + "/current", deployTo + "/releases"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("after undeploy %s still exists", p)
		}
	}
	if status, body, _, err := get("/" + markerFile); err == nil && status == 200 {
		t.Errorf("after undeploy /%s still answers 200: %q", markerFile, body)
	}
	if b, err := os.ReadFile(filepath.Join(efsDevice, app+"/shared", uploadPath)); err != nil || string(b) != upload {
		t.Errorf("after undeploy the upload on EFS is gone: %v", err)
	}
	lap("undeploy")

	// shutdown: Apache stops.
	mustSucceed(t, "shutdown", a.send(t, map[string]any{"type": "shutdown"}))
	if pid := apachePID(); pid != "" {
		t.Errorf("after shutdown Apache still runs (pid %s)", pid)
	}
	if _, _, _, err := get("/readme.html"); err == nil {
		t.Errorf("after shutdown port 80 still answers")
	}
	lap("shutdown")
	checkNoPassword(t, password, a)
	t.Logf("timing: total %.1fs", time.Since(began).Seconds())
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// gitDeploy is a deploy event whose attributes point the app at revision
// of the git repository (the event's attributes win over attributes.d).
func gitDeploy(repo, revision string) map[string]any {
	return map[string]any{"type": "deploy", "app": app, "attributes": map[string]any{
		"deploy": map[string]any{app: map[string]any{
			"scm": map[string]any{"scm_type": "git", "repository": repo, "revision": revision},
		}},
	}}
}

// hasLine reports whether out has a line whose first fields are fields.
func hasLine(out string, fields ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= len(fields) && strings.Join(f[:len(fields)], " ") == strings.Join(fields, " ") {
			return true
		}
	}
	return false
}

// The deploys under load: a quiet window (steady state) after each,
// and the samples a p99 needs on each side.
const (
	deployQuiet = 4 * time.Second
	minSamples  = 500
)

// mustNotReload: a release switch under php-fpm neither reloads nor
// restarts Apache or php-fpm.
func mustNotReload(t *testing.T, what string, r result) {
	t.Helper()
	for _, s := range []string{"service[apache2] action reload", "service[apache2] action restart", "service[php-fpm] action"} {
		if strings.Contains(r.Output, s) {
			t.Errorf("%s: %q, want no reload; the run's output ends:\n%s", what, s, r.Output)
		}
	}
}

// agentNice is the agent's nice value in systemd/stackagent.service:
// deploys are background work, requests come first.
const agentNice = 10

// renice sets the nice value of every thread of process pid (Linux's
// nice is per thread; the processes it starts later inherit it).
func renice(t *testing.T, pid, nice int) {
	t.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatalf("renice %d: %v", pid, err)
	}
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil {
			t.Fatalf("renice thread %d of %d: %v", tid, pid, err)
		}
	}
}

// stopPHPFPM stops php-fpm through its init script if it runs.
func stopPHPFPM(t *testing.T) {
	t.Helper()
	if phpFPMPID() == "" {
		return
	}
	if out, err := runErr("/etc/init.d/php8.2-fpm", "stop"); err != nil {
		t.Errorf("stop php-fpm: %v\n%s", err, out)
	}
}

// phpFPMPID is php-fpm's master pid, "" when it does not run.
func phpFPMPID() string {
	b, err := os.ReadFile("/run/php/php8.2-fpm.pid")
	if err != nil {
		return ""
	}
	pid := strings.TrimSpace(string(b))
	if _, err := os.Stat("/proc/" + pid); err != nil {
		return ""
	}
	return pid
}

// removeApp removes what the test's app leaves on the host: the "EFS"
// mount and its fstab line, deploy_to, the vhost. stale: it is a killed
// run's, say so.
func removeApp(t *testing.T, stale bool) {
	t.Helper()
	left := []string{}
	if mounted(efsMount) {
		left = append(left, efsMount+" mounted")
		if out, err := runErr("umount", efsMount); err != nil {
			t.Errorf("umount %s: %v\n%s", efsMount, err, out)
		}
	}
	os.Remove(efsMount)
	if stale {
		lines := fstabLines(t)
		kept := lines[:0]
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 1 && f[1] == efsMount {
				left = append(left, "fstab line "+l)
				continue
			}
			kept = append(kept, l)
		}
		if len(kept) != len(lines) {
			if err := os.WriteFile("/etc/fstab", []byte(strings.Join(kept, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range []string{deployTo, vhostLink, vhostFile} {
		if _, err := os.Lstat(p); err == nil {
			left = append(left, p)
		}
		if err := os.RemoveAll(p); err != nil {
			t.Errorf("remove %s: %v", p, err)
		}
	}
	if stale && len(left) > 0 {
		t.Logf("removed what a killed run left: %s", strings.Join(left, ", "))
	}
}
