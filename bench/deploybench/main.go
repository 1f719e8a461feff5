// Command deploybench measures the deploy resource (docs/benchmarks.md,
// "Deploy"): the time to deploy a tree (a local source, force_deploy, so
// each run builds and switches a whole new release: content hash, copy,
// shared dir, record, switch, prune) against cp -a of the same tree on the
// same disk, the median of -runs each; and, while every deploy switches
// current, a reader that readlinks and stats current in a tight loop and
// counts the times it was absent or dangling.
//
//	go run ./bench/deploybench -src /usr/share/wordpress -work /var/tmp/x
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing/fstest"
	"time"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/resources"
)

func main() {
	src := flag.String("src", "/usr/share/wordpress", "the tree to deploy")
	work := flag.String("work", "", "scratch directory on the disk to measure (default: a temp dir under /var/tmp)")
	runs := flag.Int("runs", 5, "runs of each")
	flag.Parse()
	if err := run(*src, *work, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "deploybench:", err)
		os.Exit(1)
	}
}

func run(src, work string, runs int) error {
	if work == "" {
		d, err := os.MkdirTemp("/var/tmp", "stackagent-deploybench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	}
	files, bytes, err := count(src)
	if err != nil {
		return err
	}
	deployTo := filepath.Join(work, "srv/www/wordpress")
	cp, dep, err := timeRuns(src, work, deployTo, runs)
	if err != nil {
		return err
	}
	absent, checks, err := watchCurrent(src, deployTo, runs)
	if err != nil {
		return err
	}
	mc, md := median(cp), median(dep)
	fmt.Printf("tree            %s: %d files, %.1f MiB\n", src, files, float64(bytes)/(1<<20))
	fmt.Printf("cp -a           median %v of %d (%v)\n", mc.Round(time.Millisecond), runs, rounded(cp))
	fmt.Printf("deploy          median %v of %d (%v)\n", md.Round(time.Millisecond), runs, rounded(dep))
	fmt.Printf("ratio           %.2fx (target <= 1.3x) %s\n", float64(md)/float64(mc), verdict(float64(md) <= 1.3*float64(mc)))
	fmt.Printf("current absent  %d of %d checks during %d switches (target 0) %s\n", absent, checks, runs, verdict(absent == 0))
	return nil
}

// verdict is PASS or MISS.
func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// timeRuns warms the page cache, then times runs of cp -a and of deploy,
// alternating, so that a busy machine slows both alike.
func timeRuns(src, work, deployTo string, runs int) (cp, dep []time.Duration, err error) {
	if err := exec.Command("cp", "-a", src, filepath.Join(work, "warm")).Run(); err != nil {
		return nil, nil, fmt.Errorf("cp -a: %w", err)
	}
	os.RemoveAll(filepath.Join(work, "warm"))
	if _, err := deploy(src, deployTo); err != nil { // warm-up
		return nil, nil, err
	}
	for i := range runs {
		dst := filepath.Join(work, fmt.Sprintf("cp-%d", i))
		t0 := time.Now()
		if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
			return nil, nil, fmt.Errorf("cp -a: %v: %s", err, out)
		}
		cp = append(cp, time.Since(t0))
		os.RemoveAll(dst)
		d, err := deploy(src, deployTo)
		if err != nil {
			return nil, nil, err
		}
		dep = append(dep, d)
	}
	return cp, dep, nil
}

// watchCurrent deploys runs times, untimed, while a reader checks in a
// tight loop that current resolves; it returns the checks that found it
// absent or dangling, and all the checks.
func watchCurrent(src, deployTo string, runs int) (absent, checks int64, err error) {
	var nAbsent, nChecks atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		readCurrent(filepath.Join(deployTo, "current"), stop, &nAbsent, &nChecks)
	}()
	for range runs {
		if _, err = deploy(src, deployTo); err != nil {
			break
		}
	}
	close(stop)
	<-done
	return nAbsent.Load(), nChecks.Load(), err
}

// readCurrent checks cur and its index.php until stop closes.
func readCurrent(cur string, stop <-chan struct{}, absent, checks *atomic.Int64) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		if _, err := os.Lstat(cur); err != nil {
			if checks.Load() == 0 {
				time.Sleep(time.Millisecond) // nothing deployed yet
				continue
			}
			absent.Add(1)
		} else if _, err := os.Stat(filepath.Join(cur, "index.php")); err != nil {
			absent.Add(1)
		}
		checks.Add(1)
	}
}

const recipe = `deploy "wordpress" {
  deploy_to = %q, source_type = "local", repository = %q,
  action = "force_deploy", keep_releases = 3, shared_dirs = {"wp-content/uploads"},
}
`

// deploy converges one force_deploy in-process and returns its time.
func deploy(src, deployTo string) (time.Duration, error) {
	reg := recipes.NewRegistry()
	resources.Register(reg)
	set, errs := recipes.LoadCookbooks(recipes.CookbookSource{Origin: "bench", FS: fstest.MapFS{
		"bench/recipes/default.lua": {Data: fmt.Appendf(nil, recipe, deployTo, src)},
	}})
	if len(errs) > 0 {
		return 0, errs[0]
	}
	items, err := recipes.ParseRunList("bench")
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	rep, err := recipes.Run(context.Background(), recipes.Options{Registry: reg, Cookbooks: set, Node: recipes.NewNode("bench"), RunList: items})
	d := time.Since(t0)
	if err != nil {
		return 0, err
	}
	if rep.UpdatedResources != 1 {
		return 0, fmt.Errorf("deploy updated %d resources, want 1", rep.UpdatedResources)
	}
	return d, nil
}

func count(dir string) (files int, bytes int64, err error) {
	err = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files++
			if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() {
				bytes += fi.Size()
			}
		}
		return nil
	})
	return files, bytes, err
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func rounded(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}
