package resources

import "github.com/stackagent/stackagent/recipes"

// registerFiles adds the file-system kinds: file, directory, link,
// template, cookbook_file, remote_file, remote_directory.
func registerFiles(g *recipes.Registry) {
	g.Register(fileKind())
	g.Register(directoryKind())
	g.Register(linkKind())
	g.Register(templateKind())
	g.Register(cookbookFileKind())
	g.Register(remoteFileKind())
	g.Register(remoteDirectoryKind())
}
