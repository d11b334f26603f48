"""Result files (the results module) and, later, what reads them: acceptance and renderers."""
