-- daemonbench::configure, the recipe bench/daemon.sh sends configure
-- events for. node.daemonbench.dir is a temporary directory the benchmark
-- watches with inotify: the first resource writes first/stamp (so the
-- first write in first/ is when the first resource ran), the last one
-- last/stamp. Both hold the event id, so each event updates them.
local dir = node.daemonbench.dir
local id = node.stackagent.event.id

file(dir .. "/first/stamp") { content = id .. "\n", mode = "0644" }

directory(dir .. "/conf.d") { mode = "0755" }
for i = 1, 4 do
  file(dir .. "/conf.d/site" .. i .. ".conf") {
    content = "# site " .. i .. "\nlisten " .. (8000 + i) .. "\n", mode = "0644",
  }
end

file(dir .. "/last/stamp") { content = id .. "\n", mode = "0644" }
