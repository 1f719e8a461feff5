package resources

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

func TestParsePasswdAndGroup(t *testing.T) {
	t.Parallel()
	u := parsePasswd(strings.Split("www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin", ":"))
	if *u != (passwdEntry{Name: "www-data", UID: "33", GID: "33", Comment: "www-data", Home: "/var/www", Shell: "/usr/sbin/nologin"}) {
		t.Fatalf("passwd %+v", u)
	}
	g := parseGroup(strings.Split("adm:x:4:syslog,alice", ":"))
	if g.GID != "4" || !reflect.DeepEqual(g.Members, []string{"syslog", "alice"}) {
		t.Fatalf("group %+v", g)
	}
	if parseGroup(strings.Split("empty:x:5:", ":")).Members != nil || parsePasswd(nil) != nil {
		t.Fatal("empty entries")
	}
}

func randomName(prefix string) string {
	b := make([]byte, 3)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func getentLine(db, key string) string {
	out, _ := exec.Command("getent", db, key).Output()
	return strings.TrimSpace(string(out))
}

// TestUserAndGroup creates, alters, locks and removes a real user and
// group.
func TestUserAndGroup(t *testing.T) {
	needRoot(t, "creates users and groups")
	user, group := randomName("sa-test-"), randomName("sa-test-g")
	home := "/home/" + user
	t.Cleanup(func() {
		exec.Command("userdel", "-r", user).Run()
		exec.Command("groupdel", group).Run()
		os.RemoveAll(home)
	})
	o := recipestest.Opts{}
	hash := `$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/`
	recipe := `
group "` + group + `" { gid = 4711 }
user "` + user + `" { uid = 4711, gid = "` + group + `", home = "` + home + `", shell = "/bin/bash", comment = "stackagent test", manage_home = true, password = "` + hash + `" }
group "` + group + `-members" { group_name = "` + group + `", members = {"` + user + `"}, action = "modify" }
`
	res := sysConverge(t, o, recipe, 3)
	if strings.Contains(res.Output, hash) {
		t.Fatalf("password hash shown:\n%s", res.Output)
	}
	if got, want := getentLine("passwd", user), user+":x:4711:4711:stackagent test:"+home+":/bin/bash"; got != want {
		t.Fatalf("passwd %q want %q", got, want)
	}
	if got := getentLine("group", group); got != group+":x:4711:"+user {
		t.Fatalf("group %q", got)
	}
	if sh := strings.Split(getentLine("shadow", user), ":"); len(sh) < 2 || sh[1] != hash {
		t.Fatalf("shadow %v", sh)
	}
	if fi, err := os.Stat(home); err != nil || !fi.IsDir() {
		t.Fatalf("home not made: %v", err)
	}
	sysConverge(t, o, recipe, 0)
	res = sysConverge(t, o, `user "`+user+`" { shell = "/bin/sh", comment = "changed" }
user "`+user+`-lock" { username = "`+user+`", action = "lock" }`, 2)
	if !strings.Contains(res.Output, "change shell from /bin/bash to /bin/sh") {
		t.Fatalf("output:\n%s", res.Output)
	}
	if got := getentLine("passwd", user); !strings.HasSuffix(got, ":changed:"+home+":/bin/sh") {
		t.Fatalf("passwd after modify %q", got)
	}
	if sh := strings.Split(getentLine("shadow", user), ":"); sh[1] != "!"+hash {
		t.Fatalf("not locked: %v", sh[1])
	}
	sysConverge(t, o, `user "`+user+`" { action = "lock" }`, 0)
	sysConverge(t, o, `user "`+user+`" { action = "unlock" }`, 1)
	sysConverge(t, o, `group "`+group+`" { members = {"`+user+`", "nobody"}, append = true }`, 1)
	if got := getentLine("group", group); got != group+":x:4711:"+user+",nobody" {
		t.Fatalf("group after append %q", got)
	}
	sysConverge(t, o, `group "`+group+`" { members = {"nobody"} }`, 1)
	if got := getentLine("group", group); got != group+":x:4711:nobody" {
		t.Fatalf("group after replace %q", got)
	}
	sysConverge(t, o, `user "`+user+`" { action = "remove", manage_home = true }
group "`+group+`" { action = "remove" }`, 2)
	if getentLine("passwd", user) != "" || getentLine("group", group) != "" || pathExists(home) {
		t.Fatal("user, group or home left after remove")
	}
	sysConverge(t, o, `user "`+user+`" { action = "remove" }
group "`+group+`" { action = "remove" }
user "`+user+`" { action = "manage", shell = "/bin/sh" }`, 0)
}
