# What the MWAA environment is bootstrapped with: the files of plugins.zip and the content hashes
# the deploy command (tools/dwh_tools/deploy.py) stores as S3 object metadata. Both sides hash the
# same way, so a deploy right after `terraform apply` finds nothing changed and skips the
# (slow) MWAA update. Provider-less, so tests evaluate it offline against deploy.py.

locals {
  # Same selection as dwh_tools.deploy.plugin_files(): every file under plugins/ except bytecode
  # caches and hidden files, but for the .airflowignore that keeps the plugin manager out of dwh/.
  plugin_files = sort([
    for f in fileset(var.plugins_dir, "**") : f
    if(length(regexall("(^|/)(__pycache__|\\.[^/]+)(/|$)", f)) == 0 || f == ".airflowignore") && !endswith(f, ".pyc")
  ])

  # Manifest: "<sha256 of file>  <path>\n" per file in path order; its sha256 is the content hash.
  plugins_manifest = join("", [for f in local.plugin_files : "${filesha256("${var.plugins_dir}/${f}")}  ${f}\n"])
}
