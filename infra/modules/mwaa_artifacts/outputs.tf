output "plugin_files" {
  description = "Paths (relative to plugins/) that plugins.zip holds."
  value       = local.plugin_files

  precondition {
    condition     = contains(local.plugin_files, "dwh/__init__.py")
    error_message = "plugins.zip needs dwh/__init__.py at its root: ${var.plugins_dir}/dwh/__init__.py is missing."
  }
  precondition {
    condition     = length([for f in local.plugin_files : f if length(regexall("(^|/)tests?/", f)) > 0]) == 0
    error_message = "Tests do not belong in plugins.zip; move them out of ${var.plugins_dir}."
  }
}

output "plugins_content_sha256" {
  description = "Content hash of plugins.zip (sha256 of the file manifest), as the deploy command computes it."
  value       = sha256(local.plugins_manifest)
}

output "requirements_sha256" {
  description = "sha256 of requirements.txt."
  value       = filesha256(var.requirements_file)
}

output "startup_script_sha256" {
  description = "sha256 of the startup script."
  value       = filesha256(var.startup_script_file)
}
