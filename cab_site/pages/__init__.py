"""What each kind of page shows, as plain template contexts built by pure functions (no I/O):

cell          one cell: the seed pages' sections, plus the agent's diff and its terminal
leaderboard   TUI x model rows with intervals, the Pareto chart and the task heatmap
task          one task: prompt, validation state, results across TUIs and models
"""
