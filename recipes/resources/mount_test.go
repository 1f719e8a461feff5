package resources

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

var efs = mountSpec{Device: "fs-0123.efs.eu-west-1.amazonaws.com:/", MountPoint: "/srv/www/shared", FSType: "nfs4",
	Options: strings.Split("nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev", ","), Dump: 0, Pass: 0}

func TestEFSMountCommandAndFstab(t *testing.T) {
	t.Parallel()
	wantLine := "fs-0123.efs.eu-west-1.amazonaws.com:/ /srv/www/shared nfs4 nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev 0 0"
	if got := efs.FstabLine(); got != wantLine {
		t.Fatalf("fstab line\n got %s\nwant %s", got, wantLine)
	}
	wantArgs := []string{"-t", "nfs4", "-o", "nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev",
		"fs-0123.efs.eu-west-1.amazonaws.com:/", "/srv/www/shared"}
	if got := efs.MountArgs(); !reflect.DeepEqual(got, wantArgs) {
		t.Fatalf("mount args %v", got)
	}
	// How the kernel shows such a mount: nothing differs, so no remount.
	live := parseMountinfo([]string{"250 30 0:52 / /srv/www/shared rw,relatime shared:140 - nfs4 fs-0123.efs.eu-west-1.amazonaws.com:/ rw,vers=4.1,rsize=1048576,wsize=1048576,namlen=255,hard,noresvport,proto=tcp,timeo=600,retrans=2,sec=sys,clientaddr=10.0.0.5,local_lock=none,addr=10.0.1.9"})
	if len(live) != 1 || !sameDevice(efs, live[0], func(p string) string { return p }) {
		t.Fatalf("efs not recognised as mounted: %+v", live)
	}
	if d := optionsDiffer(efs.Options, live[0]); len(d) != 0 {
		t.Fatalf("options differ: %v", d)
	}
	if d := optionsDiffer(append(efs.Options, "ro"), live[0]); !reflect.DeepEqual(d, []string{"ro"}) {
		t.Fatalf("ro not detected: %v", d)
	}
}

func TestParseMountinfoAndOptions(t *testing.T) {
	t.Parallel()
	infos := parseMountinfo([]string{
		`36 35 98:0 /mnt1 /mnt/my\040dir rw,noatime master:1 - ext3 /dev/root rw,errors=continue`,
		`40 30 0:40 / /tmp/t rw,nosuid,nodev,relatime - tmpfs tmpfs rw,size=10240k,mode=755`,
		`41 30 0:41 / /tmp/t rw,relatime - tmpfs other rw,size=20480k`,
	})
	if infos[0].MountPoint != "/mnt/my dir" || infos[0].Root != "/mnt1" || infos[0].FSType != "ext3" || infos[0].Source != "/dev/root" {
		t.Fatalf("parsed %+v", infos[0])
	}
	top := findMount(infos, "/tmp/t/")
	if top == nil || top.Source != "other" {
		t.Fatalf("topmost mount: %+v", top)
	}
	want := []string{"size=10m", "mode=0755", "nosuid", "defaults", "x-systemd.automount", "nofail"}
	if d := optionsDiffer(want, infos[1]); len(d) != 0 {
		t.Fatalf("differ: %v", d)
	}
	if d := optionsDiffer([]string{"size=20m", "noexec"}, infos[1]); !reflect.DeepEqual(d, []string{"size=20m", "noexec"}) {
		t.Fatalf("differ: %v", d)
	}
}

func TestEditFstab(t *testing.T) {
	t.Parallel()
	lines := []string{"# /etc/fstab", "UUID=abc / ext4 errors=remount-ro 0 1", "", "/dev/sdb1   /data  ext4 defaults 0 2", "proc /proc proc defaults 0 0"}
	out, desc := editFstab(lines, "/data", "/dev/sdc1 /data xfs noatime 0 2")
	if !strings.HasPrefix(desc, "replace") || !reflect.DeepEqual(out, []string{lines[0], lines[1], "", "/dev/sdc1 /data xfs noatime 0 2", lines[4]}) {
		t.Fatalf("replace: %q %q", desc, out)
	}
	if _, desc := editFstab(out, "/data/", "/dev/sdc1 /data xfs noatime 0 2"); desc != "" {
		t.Fatalf("same line changed: %s", desc)
	}
	if _, desc := editFstab(lines, "/data", "/dev/sdb1 /data ext4 defaults 0 2"); desc != "" {
		t.Fatalf("line differing only by blanks changed: %s", desc)
	}
	out, desc = editFstab(lines, "/new", efs.FstabLine())
	if !strings.HasPrefix(desc, "add") || out[len(out)-1] != efs.FstabLine() || len(out) != len(lines)+1 {
		t.Fatalf("add: %q %q", desc, out)
	}
	out, desc = editFstab(lines, "/data", "")
	if !strings.HasPrefix(desc, "remove") || len(out) != len(lines)-1 || strings.Contains(strings.Join(out, "\n"), "/data") {
		t.Fatalf("remove: %q %q", desc, out)
	}
}

// TestMountFstabUnprivileged manages fstab lines under a temporary root.
func TestMountFstabUnprivileged(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	orig := "# keep me\nproc /proc proc defaults 0 0\n"
	os.WriteFile(filepath.Join(root, "etc/fstab"), []byte(orig), 0o644)
	recipe := `mount "/srv/www/shared" { device = "fs-0123.efs.eu-west-1.amazonaws.com:/", fstype = "nfs4", pass = 0,
  options = {"nfsvers=4.1","rsize=1048576","wsize=1048576","hard","timeo=600","retrans=2","noresvport","_netdev"}, action = "enable" }`
	o := recipestest.Opts{Root: root}
	sysConverge(t, o, recipe, 1)
	got, _ := os.ReadFile(filepath.Join(root, "etc/fstab"))
	if string(got) != orig+efs.FstabLine()+"\n" {
		t.Fatalf("fstab:\n%s", got)
	}
	sysConverge(t, o, recipe, 0)
	sysConverge(t, o, `mount "/srv/www/shared" { action = "disable" }`, 1)
	if got, _ := os.ReadFile(filepath.Join(root, "etc/fstab")); string(got) != orig {
		t.Fatalf("after disable:\n%s", got)
	}
}

// TestMountTmpfsAndBind mounts a real tmpfs and a bind mount of it under
// a temporary --root (so their fstab lines go to ROOT/etc/fstab, never the
// host's), remounts on an option change and unmounts.
func TestMountTmpfsAndBind(t *testing.T) {
	needRoot(t, "mounts a tmpfs and a bind mount")
	root := t.TempDir()
	mnt, bind := filepath.Join(root, "mnt/tmp"), filepath.Join(root, "mnt/bind")
	for _, d := range []string{mnt, bind, filepath.Join(root, "etc")} {
		os.MkdirAll(d, 0o755)
	}
	t.Cleanup(func() {
		for _, d := range []string{bind, mnt} {
			for exec.Command("umount", d).Run() == nil {
			}
		}
	})
	recipe := func(size string) string {
		return `mount "/mnt/tmp" { device = "sa-tmpfs", fstype = "tmpfs", options = {"size=` + size + `", "mode=0750", "nosuid"},
  supports = { remount = true }, action = {"mount", "enable"} }
mount "/mnt/bind" { device = "/mnt/tmp", fstype = "none", options = {"bind"}, action = {"mount", "enable"} }`
	}
	o := recipestest.Opts{Root: root}
	res := sysConverge(t, o, recipe("8m"), 2)
	live, _ := readMountinfo("/proc/self/mountinfo")
	m := findMount(live, mnt)
	if m == nil || m.FSType != "tmpfs" || m.Source != "sa-tmpfs" || len(optionsDiffer([]string{"size=8m", "mode=750", "nosuid"}, *m)) != 0 {
		t.Fatalf("tmpfs not mounted as asked: %+v\n%s", m, res.Output)
	}
	os.WriteFile(filepath.Join(mnt, "probe"), []byte("x"), 0o644)
	if _, err := os.Stat(filepath.Join(bind, "probe")); err != nil {
		t.Fatalf("bind mount does not show the tmpfs: %v", err)
	}
	fstab, _ := os.ReadFile(filepath.Join(root, "etc/fstab"))
	want := "sa-tmpfs /mnt/tmp tmpfs size=8m,mode=0750,nosuid 0 2\n/mnt/tmp /mnt/bind none bind 0 2\n"
	if string(fstab) != want {
		t.Fatalf("fstab:\n%s\nwant:\n%s", fstab, want)
	}
	sysConverge(t, o, recipe("8m"), 0)
	sysConverge(t, o, recipe("16m"), 1)
	live, _ = readMountinfo("/proc/self/mountinfo")
	if m := findMount(live, mnt); m == nil || len(optionsDiffer([]string{"size=16m"}, *m)) != 0 {
		t.Fatalf("not remounted with size=16m: %+v", m)
	}
	if _, err := os.Stat(filepath.Join(bind, "probe")); err != nil {
		t.Fatalf("remount lost the tmpfs's content: %v", err)
	}
	sysConverge(t, o, recipe("16m"), 0)
	sysConverge(t, o, `mount "/mnt/bind" { action = {"umount", "disable"} }
mount "/mnt/tmp" { action = {"umount", "disable"} }`, 2)
	if live, _ = readMountinfo("/proc/self/mountinfo"); findMount(live, mnt) != nil || findMount(live, bind) != nil {
		t.Fatal("still mounted after umount")
	}
	if fstab, _ := os.ReadFile(filepath.Join(root, "etc/fstab")); len(fstab) != 0 {
		t.Fatalf("fstab after disable: %q", fstab)
	}
}
