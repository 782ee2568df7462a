return function(model) return {{suffix = ".md", text = "TODO"}} end
