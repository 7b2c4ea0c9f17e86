"""Community housing: projects in the directory, matching seekers to them, seekers' consent, demand reports."""
