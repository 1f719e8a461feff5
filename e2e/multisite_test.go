package e2e

// Several apps on one host and WordPress Multisite, end to end, as root:
// the daemon of a host in the wordpress and php-app layers deploys three
// apps — a WordPress subdirectory network, a WordPress subdomain network
// and a small PHP app of the test's own — each answering on its own
// server name on 127.0.0.1. Both networks are installed for real against
// MariaDB by WordPress's own PHP API (what install.php and Tools > Network
// Setup run), then turned into networks by an attribute change and a
// configure event, as docs/wordpress.md tells an operator. Deploying,
// rolling back and undeploying one app leaves the others' trees, vhosts
// and releases byte for byte as they were.
//
// Left on the host: what setup installs and configures for Apache and
// PHP (as TestWordPress). Apache is left stopped, MariaDB as found; the
// apps, their vhosts, databases and users are removed.

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/stackagent/stackagent/recipes/recipestest"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The apps: dir and sub are WordPress networks, php the PHP app.
const (
	msDir, msDirHost = "e2emsdir", "msdir.test"
	msSub, msSubHost = "e2emssub", "mssub.test"
	msPHP, msPHPHost = "e2emsphp", "msphp.test"
	msMarker         = "e2e-ms-release.txt"
	msWhere          = "e2e-ms-where.php"
	msWhereSource    = "<?php echo realpath(__FILE__), \"\\n\", trim(file_get_contents(__DIR__ . '/" + msMarker + "')), \"\\n\";\n"
	// WordPress's single-site rules, as a release's own .htaccess often
	// has them: the vhost's network rules must still come first.
	msSingleSiteHtaccess = "# BEGIN WordPress\nRewriteEngine On\nRewriteBase /\nRewriteRule ^index\\.php$ - [L]\n" +
		"RewriteCond %{REQUEST_FILENAME} !-f\nRewriteCond %{REQUEST_FILENAME} !-d\nRewriteRule . /index.php [L]\n# END WordPress\n"
	msPHPIndex = "<?php header('Content-Type: text/plain'); echo 'php app ', trim(file_get_contents(__DIR__ . '/marker.txt')), ' env=', getenv('MS_APP'), \"\\n\";\n"
)

// msInstallPHP installs WordPress and makes its network, as install.php
// (wp_install) and Tools > Network Setup (install_network,
// populate_network: wp-admin/network.php on POST) do. Run in the release
// as the web server's user: php install.php HOST TITLE SUBDOMAIN(0|1).
const msInstallPHP = `<?php
list( , $e2e_host, $e2e_title, $e2e_subdomain ) = $argv;
define( 'WP_INSTALLING', true );
define( 'WP_HTTP_BLOCK_EXTERNAL', true ); // no wildcard DNS or loopback checks leave the host
$_SERVER['HTTP_HOST'] = $_SERVER['SERVER_NAME'] = $e2e_host;
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PORT'] = '80';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REMOTE_ADDR'] = '127.0.0.1';
require getcwd() . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/network.php';
$e2e_r = wp_install( $e2e_title, 'admin', 'admin@example.invalid', true, '', 'e2e-' . wp_generate_password( 20, false ) );
if ( is_wp_error( $e2e_r ) ) { fwrite( STDERR, 'wp_install: ' . $e2e_r->get_error_message() . "\n" ); exit( 1 ); }
// Tools > Network Setup: wp-admin/network.php refuses without
// WP_ALLOW_MULTISITE, points $wpdb at the network's tables, and on POST
// creates them and the network.
if ( ! defined( 'WP_ALLOW_MULTISITE' ) || ! WP_ALLOW_MULTISITE ) { fwrite( STDERR, "WP_ALLOW_MULTISITE is not defined\n" ); exit( 1 ); }
foreach ( $wpdb->tables( 'ms_global' ) as $e2e_table => $e2e_prefixed ) {
	$wpdb->$e2e_table = $e2e_prefixed;
}
install_network();
$e2e_r = populate_network( 1, $e2e_host, 'admin@example.invalid', $e2e_title . ' network', '/', '1' === $e2e_subdomain );
if ( is_wp_error( $e2e_r ) && 'no_wildcard_dns' !== $e2e_r->get_error_code() ) {
	fwrite( STDERR, 'populate_network: ' . $e2e_r->get_error_message() . "\n" );
	exit( 1 );
}
echo "installed\n";
`

// msSitePHP adds a site to a network (wpmu_create_blog, as Sites > Add
// New) and uploads a file in it (wp_upload_bits; .pdf, since a network
// allows only its upload_filetypes): php site.php HOST
// DOMAIN PATH TITLE CONTENT; prints {blog_id, file, url}. (The scripts'
// globals are $e2e_*: WordPress's bootstrap sets $domain, $path and more.)
const msSitePHP = `<?php
list( , $e2e_host, $e2e_domain, $e2e_path, $e2e_title, $e2e_content ) = $argv;
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
$_SERVER['HTTP_HOST'] = $_SERVER['SERVER_NAME'] = $e2e_host;
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PORT'] = '80';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REMOTE_ADDR'] = '127.0.0.1';
require getcwd() . '/wp-load.php';
if ( ! is_multisite() ) { fwrite( STDERR, "not a network: MULTISITE is not defined\n" ); exit( 1 ); }
$e2e_id = wpmu_create_blog( $e2e_domain, $e2e_path, $e2e_title, 1, array( 'public' => 1 ) );
if ( is_wp_error( $e2e_id ) ) { fwrite( STDERR, 'wpmu_create_blog: ' . $e2e_id->get_error_message() . "\n" ); exit( 1 ); }
switch_to_blog( $e2e_id );
$e2e_u = wp_upload_bits( 'e2e-ms-upload.pdf', null, $e2e_content );
restore_current_blog();
if ( $e2e_u['error'] ) { fwrite( STDERR, 'wp_upload_bits: ' . $e2e_u['error'] . "\n" ); exit( 1 ); }
echo json_encode( array( 'blog_id' => $e2e_id, 'file' => $e2e_u['file'], 'url' => $e2e_u['url'] ) ), "\n";
`

func TestMultisite(t *testing.T) {
	requireE2E(t, "apache2ctl", "php", "mysql", "mysqladmin", "runuser")
	requireWordPressTree(t)
	began := time.Now()
	LockApache(t)
	ensureMariaDB(t)
	bin := buildAgent(t)

	apps := []string{msDir, msSub, msPHP}
	for _, a := range apps {
		for _, p := range msAppPaths(a) {
			if _, err := os.Lstat(p); err == nil {
				t.Fatalf("%s exists already: remove it first", p)
			}
		}
	}
	_, deployUserErr := runErr("id", "deploy")
	t.Cleanup(func() {
		stopApache(t)
		stopPHPFPM(t)
		for _, a := range apps {
			for _, p := range msAppPaths(a) {
				if err := os.RemoveAll(p); err != nil {
					t.Errorf("cleanup: %v", err)
				}
			}
			logs, _ := filepath.Glob("/var/log/apache2/" + a + "-*.log")
			for _, l := range logs {
				os.Remove(l)
			}
		}
		if deployUserErr != nil {
			runErr("userdel", "-r", "deploy")
		}
	})

	// Each WordPress network has its own database and user.
	pw := map[string]string{msDir: "e2e-" + randomHex(12), msSub: "e2e-" + randomHex(12)}
	drop := ""
	for _, a := range []string{msDir, msSub} {
		drop += fmt.Sprintf("DROP DATABASE IF EXISTS %s; DROP USER IF EXISTS '%s'@'localhost';", a, a)
	}
	mysql(t, drop)
	t.Cleanup(func() { mysql(t, drop) })
	for _, a := range []string{msDir, msSub} {
		mysql(t, fmt.Sprintf("CREATE DATABASE %s; CREATE USER '%s'@'localhost' IDENTIFIED BY '%s'; GRANT ALL ON %s.* TO '%s'@'localhost';",
			a, a, pw[a], a, a))
	}

	// Sources: one WordPress tree for both networks (with a single-site
	// .htaccess), the PHP app.
	wpSrc := filepath.Join(t.TempDir(), "wordpress")
	if err := copyTree(wordpressTree, wpSrc); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(wpSrc, msMarker), "wp r1\n")
	writeFile(t, filepath.Join(wpSrc, msWhere), msWhereSource)
	writeFile(t, filepath.Join(wpSrc, ".htaccess"), msSingleSiteHtaccess)
	phpSrc := filepath.Join(t.TempDir(), "php")
	writeFile(t, filepath.Join(phpSrc, "index.php"), msPHPIndex)
	writeFile(t, filepath.Join(phpSrc, "marker.txt"), "r1\n")

	dir := t.TempDir()
	cfg := agentConfig(t, dir, "e2e-multisite", "wordpress, php-app", "e2e-ms-host")
	stackPath := filepath.Join(dir, "attributes.d", "stack.json")
	writeStack := func(network bool) {
		wp := func(app, host, kind string) map[string]any {
			w := map[string]any{"defines": map[string]any{"DISABLE_WP_CRON": true}}
			if network {
				w["multisite"] = map[string]any{"enabled": true, "type": kind}
			} else {
				w["defines"].(map[string]any)["WP_ALLOW_MULTISITE"] = true
			}
			return map[string]any{
				"application_type": "wordpress",
				"scm":              map[string]any{"scm_type": "local", "repository": wpSrc},
				"domains":          []string{host},
				"environment":      map[string]any{"MS_APP": app},
				"database":         map[string]any{"host": "localhost", "database": app, "username": app, "password": pw[app]},
				"wordpress":        w,
			}
		}
		stack := map[string]any{"deploy": map[string]any{
			msDir: wp(msDir, msDirHost, "subdirectory"),
			msSub: wp(msSub, msSubHost, "subdomain"),
			msPHP: map[string]any{
				"application_type": "php",
				"scm":              map[string]any{"scm_type": "local", "repository": phpSrc},
				"domains":          []string{msPHPHost},
				"environment":      map[string]any{"MS_APP": msPHP},
			},
		}}
		b, _ := json.MarshalIndent(stack, "", "  ")
		writeFile(t, stackPath, string(b))
	}
	writeStack(false)
	a := startAgent(t, bin, cfg, nil)

	mustSucceed(t, "setup", a.send(t, map[string]any{"type": "setup"}))
	// A deploy that names no app deploys every app of both layers.
	r := a.send(t, map[string]any{"type": "deploy"})
	mustSucceed(t, "deploy (every app)", r)
	t.Logf("deploy of every app: %d/%d resources updated, run list %v", r.Updated, r.Total, r.RunList)
	for _, app := range apps {
		if n := len(msReleases(t, app)); n != 1 {
			t.Fatalf("%s: %d releases after the first deploy, want 1", app, n)
		}
	}
	msCheckPHP(t, "r1")
	t.Logf("timing: setup and first deploy done at %.1fs", time.Since(began).Seconds())

	// WordPress and its network, as the installer and Network Setup make
	// them; then the attribute change and a configure turn them on.
	scripts := msScripts(t)
	msPHPRun(t, msDir, scripts, "install.php", msDirHost, "E2E Main Site", "0")
	msPHPRun(t, msSub, scripts, "install.php", msSubHost, "E2E Sub Network", "1")
	before := msSnapshot(t, msPHP)
	writeStack(true)
	mustSucceed(t, "configure (multisite on)", a.send(t, map[string]any{"type": "configure"}))
	msSame(t, "configure", before, msSnapshot(t, msPHP))
	msCheckRendered(t)

	// A second site in each network, with an upload.
	var site2 struct {
		BlogID int    `json:"blog_id"`
		File   string `json:"file"`
		URL    string `json:"url"`
	}
	upload := "site2 upload " + randomHex(4) + "\n"
	out := msPHPRun(t, msDir, scripts, "site.php", msDirHost, msDirHost, "/site2/", "E2E Second Site", upload)
	if err := json.Unmarshal([]byte(lastLine(out)), &site2); err != nil {
		t.Fatalf("site.php: %v\n%s", err, out)
	}
	msCheckUpload(t, site2.BlogID, site2.File, site2.URL, upload)
	msPHPRun(t, msSub, scripts, "site.php", msSubHost, "site3."+msSubHost, "/", "E2E Third Site", "site3 upload\n")
	msCheckNetwork(t, "wp r1")
	msCheckSubdomains(t)
	t.Logf("timing: networks installed and checked at %.1fs", time.Since(began).Seconds())

	// Deploy, rollback and undeploy of one app leave the others as they
	// were, byte for byte.
	step := func(what, app, command string, others ...string) {
		t.Helper()
		before := msSnapshot(t, others...)
		ev := map[string]any{"type": "deploy", "app": app}
		if command == "undeploy" {
			ev["type"] = "undeploy"
		} else if command != "" {
			ev["command"] = command
		}
		mustSucceed(t, what, a.send(t, ev))
		msSame(t, what, before, msSnapshot(t, others...))
	}
	writeFile(t, filepath.Join(wpSrc, msMarker), "wp r2\n")
	step("deploy "+msDir, msDir, "", msPHP, msSub)
	if n := len(msReleases(t, msDir)); n != 2 {
		t.Fatalf("%s: %d releases after its second deploy, want 2", msDir, n)
	}
	msCheckNetwork(t, "wp r2")
	msCheckUpload(t, site2.BlogID, site2.File, site2.URL, upload)
	step("rollback "+msDir, msDir, "rollback", msPHP, msSub)
	msCheckNetwork(t, "wp r1")
	msCheckUpload(t, site2.BlogID, site2.File, site2.URL, upload)

	writeFile(t, filepath.Join(phpSrc, "marker.txt"), "r2\n")
	step("deploy "+msPHP, msPHP, "", msDir, msSub)
	msCheckPHP(t, "r2")
	step("rollback "+msPHP, msPHP, "rollback", msDir, msSub)
	msCheckPHP(t, "r1")
	msCheckNetwork(t, "wp r1")
	msCheckSubdomains(t)

	step("undeploy "+msDir, msDir, "undeploy", msPHP, msSub)
	for _, p := range []string{"/etc/apache2/sites-available/" + msDir + ".conf", "/etc/apache2/sites-enabled/" + msDir + ".conf",
		"/srv/www/" + msDir + "/current", "/srv/www/" + msDir + "/releases"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("after undeploy of %s, %s is still there", msDir, p)
		}
	}
	msCheckPHP(t, "r1")
	msCheckSubdomains(t)
	step("undeploy "+msPHP, msPHP, "undeploy", msSub)
	eventually(t, "the PHP app is gone", func() error {
		if _, body, _, err := msGet(msPHPHost, "/"); err == nil && strings.Contains(body, "php app") {
			return fmt.Errorf("%s still answers %q", msPHPHost, body)
		}
		return nil
	})
	msCheckSubdomains(t)
	mustSucceed(t, "undeploy "+msSub, a.send(t, map[string]any{"type": "undeploy", "app": msSub}))
	t.Logf("timing: total %.1fs", time.Since(began).Seconds())
}

// msAppPaths are what an app puts on the host.
func msAppPaths(app string) []string {
	return []string{"/srv/www/" + app, "/etc/apache2/sites-available/" + app + ".conf", "/etc/apache2/sites-enabled/" + app + ".conf"}
}

// msScripts writes the PHP scripts where the web server's user can read
// them, and returns their directory.
func msScripts(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "stackagent-e2e-ms-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	writeFile(t, filepath.Join(dir, "install.php"), msInstallPHP)
	writeFile(t, filepath.Join(dir, "site.php"), msSitePHP)
	return dir
}

// msPHPRun runs one of the scripts with php-cli in app's current release
// as www-data (as Apache runs WordPress), and returns its output.
func msPHPRun(t *testing.T, app, scripts, script string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "runuser", append([]string{"-u", "www-data", "--", "php", "-d", "display_errors=stderr",
		filepath.Join(scripts, script)}, args...)...)
	cmd.Dir = "/srv/www/" + app + "/current"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s %v: %v\n%s", app, script, args, err, out)
	}
	return string(out)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// msGet requests path from 127.0.0.1:80 with Host: host, following no
// redirect.
func msGet(host, path string) (int, string, http.Header, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	c := &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, "127.0.0.1:80")
		}},
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Get("http://" + host + path)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header, err
}

var titleRE = regexp.MustCompile(`(?s)<title>(.*?)</title>`)

// msTitle fetches a page that must answer 200 and returns its <title>.
func msTitle(host, path string) (string, error) {
	status, body, _, err := msGet(host, path)
	if err != nil {
		return "", err
	}
	m := titleRE.FindStringSubmatch(body)
	if status != 200 || m == nil {
		return "", fmt.Errorf("GET http://%s%s: %d, no title\n%.1500s", host, path, status, body)
	}
	return m[1], nil
}

// msCheckPHP: the PHP app answers on its name from the release marker.
func msCheckPHP(t *testing.T, marker string) {
	t.Helper()
	want := "php app " + marker + " env=" + msPHP + "\n"
	eventually(t, msPHPHost+" serves "+marker, func() error {
		status, body, _, err := msGet(msPHPHost, "/")
		if err != nil || status != 200 || body != want {
			return fmt.Errorf("GET http://%s/: %d %v %q, want %q", msPHPHost, status, err, body, want)
		}
		return nil
	})
}

// msCheckNetwork: the subdirectory network's main site and /site2/ each
// answer with their own title, and PHP runs both from current's release
// (whose marker is marker).
func msCheckNetwork(t *testing.T, marker string) {
	t.Helper()
	link, err := os.Readlink("/srv/www/" + msDir + "/current")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join("/srv/www", msDir, link, msWhere) + "\n" + marker + "\n"
	eventually(t, "the network serves "+marker, func() error {
		for path, title := range map[string]string{"/": "E2E Main Site", "/site2/": "E2E Second Site"} {
			got, err := msTitle(msDirHost, path)
			if err != nil {
				return err
			}
			if !strings.Contains(got, title) || (path == "/" && strings.Contains(got, "Second")) {
				return fmt.Errorf("http://%s%s: title %q, want %q", msDirHost, path, got, title)
			}
			status, body, _, err := msGet(msDirHost, path+msWhere)
			if err != nil || status != 200 || body != want {
				return fmt.Errorf("http://%s%s%s: %d %v %q, want %q", msDirHost, path, msWhere, status, err, body, want)
			}
		}
		return nil
	})
}

// msCheckUpload: site 2's upload is in uploads/sites/2 of the app's
// shared dir (through current's link) and served at its URL and under
// /site2/.
func msCheckUpload(t *testing.T, blogID int, file, url, content string) {
	t.Helper()
	real, err := filepath.EvalSymlinks(file)
	sharedDir := fmt.Sprintf("/srv/www/%s/shared/wp-content/uploads/sites/%d/", msDir, blogID)
	if err != nil || !strings.HasPrefix(real, sharedDir) {
		t.Fatalf("site %d's upload %s is %q (%v), want it under %s", blogID, file, real, err, sharedDir)
	}
	base := "http://" + msDirHost
	path := strings.TrimPrefix(url, base)
	if !strings.HasPrefix(url, base+"/") || !strings.Contains(path, fmt.Sprintf("/wp-content/uploads/sites/%d/", blogID)) {
		t.Fatalf("upload URL %s, want %s/…/wp-content/uploads/sites/%d/…", url, base, blogID)
	}
	// WordPress links it from the network's content URL; under the
	// site's path the vhost's rules serve the same file.
	for _, p := range []string{path, "/site2" + strings.TrimPrefix(path, "/site2")} {
		eventually(t, "the upload is served at "+p, func() error {
			status, body, _, err := msGet(msDirHost, p)
			if err != nil || status != 200 || body != content {
				return fmt.Errorf("GET %s%s: %d %v %q, want %q", base, p, status, err, body, content)
			}
			return nil
		})
	}
}

// msCheckSubdomains: site3.<domain> answers with its own title through
// the wildcard alias; a name with no site gets WordPress's signup
// redirect.
func msCheckSubdomains(t *testing.T) {
	t.Helper()
	eventually(t, "the subdomain network answers", func() error {
		if got, err := msTitle("site3."+msSubHost, "/"); err != nil || !strings.Contains(got, "E2E Third Site") {
			return fmt.Errorf("site3.%s: title %q (%v), want E2E Third Site", msSubHost, got, err)
		}
		if got, err := msTitle(msSubHost, "/"); err != nil || !strings.Contains(got, "E2E Sub Network") {
			return fmt.Errorf("%s: title %q (%v), want E2E Sub Network", msSubHost, got, err)
		}
		status, _, h, err := msGet("site4."+msSubHost, "/")
		want := "http://" + msSubHost + "/wp-signup.php?new=site4"
		if err != nil || status/100 != 3 || h.Get("Location") != want {
			return fmt.Errorf("site4.%s: %d %v Location %q, want a redirect to %s", msSubHost, status, err, h.Get("Location"), want)
		}
		return nil
	})
}

// msCheckRendered: the subdomain network's vhost and wp-config.php as
// rendered.
func msCheckRendered(t *testing.T) {
	t.Helper()
	vhost, err := os.ReadFile("/etc/apache2/sites-available/" + msSub + ".conf")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile("/srv/www/" + msSub + "/shared/config/wp-config.php")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  ServerName " + msSubHost + "\n  ServerAlias *." + msSubHost + "\n",
		"    RewriteRule ^wp-admin$ wp-admin/ [R=301,L]\n", "    RewriteRule ^(wp-(content|admin|includes).*) $1 [L]\n",
		"    RewriteRule ^(.*\\.php)$ $1 [L]\n", "    RewriteRule . index.php [L]\n  </Directory>\n"} {
		if !strings.Contains(string(vhost), want) {
			t.Errorf("%s's vhost lacks %q:\n%s", msSub, want, vhost)
		}
	}
	for _, want := range []string{"define( 'MULTISITE', true );\n", "define( 'SUBDOMAIN_INSTALL', true );\n",
		"define( 'DOMAIN_CURRENT_SITE', '" + msSubHost + "' );\n", "define( 'PATH_CURRENT_SITE', '/' );\n",
		"define( 'COOKIE_DOMAIN', '." + msSubHost + "' );\n"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("%s's wp-config.php lacks %q", msSub, want)
		}
	}
	dirVhost, _ := os.ReadFile("/etc/apache2/sites-available/" + msDir + ".conf")
	if !strings.Contains(string(dirVhost), "    RewriteRule ^([_0-9a-zA-Z-]+/)?(.*\\.php)$ $2 [L]\n") || strings.Contains(string(dirVhost), "ServerAlias") {
		t.Errorf("%s's vhost is not a subdirectory network's:\n%s", msDir, dirVhost)
	}
}

// msReleases lists app's releases on disk.
func msReleases(t *testing.T, app string) []string {
	t.Helper()
	entries, err := os.ReadDir("/srv/www/" + app + "/releases")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// msSnapshot hashes each app's files: its deploy_to tree (releases,
// current, shared), its vhost and the vhost's link.
func msSnapshot(t *testing.T, apps ...string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, a := range apps {
		for _, p := range msAppPaths(a) {
			m[p] = recipestest.TreeHash(t, p)
		}
	}
	return m
}

func msSame(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for p, h := range before {
		if after[p] != h {
			t.Errorf("%s changed %s", what, p)
		}
	}
}
