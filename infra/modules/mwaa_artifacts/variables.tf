variable "plugins_dir" {
  description = "The repository's plugins/ folder; its contents form plugins.zip (dwh/__init__.py at the root)."
  type        = string
}

variable "requirements_file" {
  description = "The repository's requirements.txt (what MWAA installs)."
  type        = string
}

variable "startup_script_file" {
  description = "The MWAA startup script (infra/mwaa/startup.sh)."
  type        = string
}
