-- stackagent::hello is the base layer's configure recipe: the first event
-- of the quick start (README) writes state_dir/hello.txt, so a newcomer
-- sees a converge change something. It touches only the agent's own state
-- directory.
local sa = node.stackagent
local ev = sa.event or {}

file(sa.state_dir .. "/hello.txt") {
  content = "Hello from stackagent on " .. node.hostname .. ": converged by the "
    .. (ev.type or "ad-hoc") .. " event " .. (ev.id or "(none)") .. ".\n",
  mode = "0644",
}
