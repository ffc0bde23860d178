// demo:greeter@1.0.0 in JavaScript (componentize-js): greet(name) = "Hi, <name>!"
export const greet = {
  greet(name) {
    return `Hi, ${name}!`;
  },
};
