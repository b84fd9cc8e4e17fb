select {{ greet() }} as greeting
